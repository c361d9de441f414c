/* Building XFRM requests with libmnl, and the checks every SA and policy
 * passes before any driver (real or fake) takes it. */
#include "config.h"

#include <netinet/in.h>
#include <linux/udp.h>
#include <string.h>

#include "ike-types.h"
#include "xfrm-msg.h"

/* Keys pass through a scratch buffer on their way into the message; it is
 * large enough for any algorithm of the table (the longest key is 64 bytes). */
#define XFRM_ALG_SCRATCH 256

XfrmMsgBuf *
xfrm_msg_buf_new (void)
{
  XfrmMsgBuf *buf = g_new0 (XfrmMsgBuf, 1);
  buf->size = XFRM_MSG_BUF_SIZE;
  buf->data = g_malloc0 (buf->size);
  return buf;
}

void
xfrm_msg_buf_free (XfrmMsgBuf *buf)
{
  if (buf == NULL)
    return;
  explicit_bzero (buf->data, buf->size);
  g_free (buf->data);
  g_free (buf);
}

void
xfrm_msg_addr_to_kernel (const XfrmAddr *addr, xfrm_address_t *out)
{
  memset (out, 0, sizeof *out);
  memcpy (out, addr->bytes, addr->family == AF_INET ? 4 : 16);
}

void
xfrm_msg_addr_from_kernel (const xfrm_address_t *in, int family, XfrmAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->family = family;
  memcpy (addr->bytes, in, family == AF_INET ? 4 : 16);
}

void
xfrm_msg_selector_to_kernel (const XfrmSelector *sel, struct xfrm_selector *out)
{
  memset (out, 0, sizeof *out);
  xfrm_msg_addr_to_kernel (&sel->src, &out->saddr);
  xfrm_msg_addr_to_kernel (&sel->dst, &out->daddr);
  out->family = sel->src.family;
  out->prefixlen_s = sel->src_prefix;
  out->prefixlen_d = sel->dst_prefix;
  out->proto = sel->proto;
  out->sport = htons (sel->sport);
  out->sport_mask = sel->sport ? 0xffff : 0;
  out->dport = htons (sel->dport);
  out->dport_mask = sel->dport ? 0xffff : 0;
}

void
xfrm_msg_selector_from_kernel (const struct xfrm_selector *in, XfrmSelector *sel)
{
  memset (sel, 0, sizeof *sel);
  xfrm_msg_addr_from_kernel (&in->saddr, in->family, &sel->src);
  xfrm_msg_addr_from_kernel (&in->daddr, in->family, &sel->dst);
  sel->src_prefix = in->prefixlen_s;
  sel->dst_prefix = in->prefixlen_d;
  sel->proto = in->proto;
  sel->sport = in->sport_mask ? ntohs (in->sport) : 0;
  sel->dport = in->dport_mask ? ntohs (in->dport) : 0;
}

static guint64
xfrm_msg_limit (guint64 value)
{
  return value ? value : XFRM_INF;
}

static void
xfrm_msg_lifetime_to_kernel (const XfrmLifetime *life, struct xfrm_lifetime_cfg *out)
{
  out->soft_byte_limit = xfrm_msg_limit (life->soft_bytes);
  out->hard_byte_limit = xfrm_msg_limit (life->hard_bytes);
  out->soft_packet_limit = xfrm_msg_limit (life->soft_packets);
  out->hard_packet_limit = xfrm_msg_limit (life->hard_packets);
  out->soft_add_expires_seconds = life->soft_seconds;
  out->hard_add_expires_seconds = life->hard_seconds;
}

/* ---- Checks ---- */

static gboolean
xfrm_msg_invalid (GError **error, const char *what)
{
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID, "invalid XFRM request: %s", what);
  return FALSE;
}

static gboolean
xfrm_msg_family_ok (int family)
{
  return family == AF_INET || family == AF_INET6;
}

gboolean
xfrm_msg_check_selector (const XfrmSelector *sel, GError **error)
{
  int family = sel->src.family;
  if (!xfrm_msg_family_ok (family) || sel->dst.family != family)
    return xfrm_msg_invalid (error, "selector addresses of one family");
  if (sel->src_prefix > xfrm_addr_host_bits (family)
      || sel->dst_prefix > xfrm_addr_host_bits (family))
    return xfrm_msg_invalid (error, "selector prefix too long");
  if ((sel->sport || sel->dport) && sel->proto == 0)
    return xfrm_msg_invalid (error, "selector ports without a protocol");
  return TRUE;
}

/* The encryption key: key proper plus salt; its size from the table or from
 * the Key Length attribute. */
static gboolean
xfrm_msg_check_encr_key (const XfrmSa *sa, const XfrmAlgorithm *encr, GError **error)
{
  guint bits = sa->key_bits;
  if (encr->key_bits && bits && bits != encr->key_bits)
    return xfrm_msg_invalid (error, "key length of a fixed-size cipher");
  if (encr->key_bits)
    bits = encr->key_bits;
  else if (bits != 128 && bits != 192 && bits != 256)
    return xfrm_msg_invalid (error, "AES key length not 128, 192 or 256");
  if (sa->encr_key == NULL || sa->encr_key_len != bits / 8 + encr->salt_bytes)
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_INVALID,
                   "invalid XFRM request: %s wants %u bytes of key material, not %zu",
                   encr->kernel_name, bits / 8 + encr->salt_bytes, sa->encr_key_len);
      return FALSE;
    }
  return TRUE;
}

static gboolean
xfrm_msg_check_suite (const XfrmSa *sa, GError **error)
{
  const XfrmAlgorithm *encr = xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, sa->encr);
  const XfrmAlgorithm *integ = xfrm_algorithm_lookup (IKE_TRANSFORM_INTEG, sa->integ);
  if (encr == NULL || (!encr->aead && integ == NULL))
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_UNSUPPORTED,
                   "no kernel algorithm for ESP transforms encr %u, integ %u", sa->encr, sa->integ);
      return FALSE;
    }
  if (encr->aead && sa->integ != IKE_INTEG_NONE)
    return xfrm_msg_invalid (error, "an integrity algorithm with an AEAD cipher");
  if (!xfrm_msg_check_encr_key (sa, encr, error))
    return FALSE;
  if (!encr->aead && (sa->integ_key == NULL || sa->integ_key_len * 8 != integ->key_bits))
    return xfrm_msg_invalid (error, "integrity key of the wrong length");
  return TRUE;
}

gboolean
xfrm_msg_check_sa (const XfrmSa *sa, GError **error)
{
  if (!xfrm_msg_family_ok (sa->src.family) || sa->dst.family != sa->src.family)
    return xfrm_msg_invalid (error, "SA addresses of one family");
  if (sa->spi == 0)
    return xfrm_msg_invalid (error, "SPI 0");
  if (!xfrm_reqid_is_ours (sa->reqid))
    return xfrm_msg_invalid (error, "reqid outside ipsecd's range");
  if (sa->mode != XFRM_TRANSPORT && sa->mode != XFRM_TUNNEL)
    return xfrm_msg_invalid (error, "mode");
  if (sa->sel.src.family && !xfrm_msg_check_selector (&sa->sel, error))
    return FALSE;
  if ((sa->encap_sport == 0) != (sa->encap_dport == 0))
    return xfrm_msg_invalid (error, "UDP encapsulation needs both ports");
  if (sa->replay_window > XFRMA_REPLAY_ESN_MAX * 8)
    return xfrm_msg_invalid (error, "replay window too large");
  return xfrm_msg_check_suite (sa, error);
}

gboolean
xfrm_msg_check_policy (const XfrmPolicy *policy, GError **error)
{
  gboolean tmpl = policy->action == XFRM_ACTION_TRAP || policy->action == XFRM_ACTION_IPSEC;
  if (!xfrm_msg_check_selector (&policy->sel, error))
    return FALSE;
  if (policy->dir > XFRM_DIR_FWD || policy->action > XFRM_ACTION_IPSEC)
    return xfrm_msg_invalid (error, "policy direction or action");
  if (!tmpl)
    return TRUE;
  if (policy->reqid && !xfrm_reqid_is_ours (policy->reqid))
    return xfrm_msg_invalid (error, "template reqid outside ipsecd's range");
  if (policy->mode == XFRM_TUNNEL
      && (!xfrm_msg_family_ok (policy->tmpl_src.family)
          || policy->tmpl_dst.family != policy->tmpl_src.family))
    return xfrm_msg_invalid (error, "tunnel template without outer addresses");
  if (policy->mode != XFRM_TRANSPORT && policy->mode != XFRM_TUNNEL)
    return xfrm_msg_invalid (error, "template mode");
  /* the kernel's template has one family: in transport mode the selector's */
  if (policy->mode == XFRM_TRANSPORT
      && ((policy->tmpl_src.family && policy->tmpl_src.family != policy->sel.src.family)
          || (policy->tmpl_dst.family && policy->tmpl_dst.family != policy->sel.src.family)))
    return xfrm_msg_invalid (error, "transport template addresses of another family");
  return TRUE;
}

/* ---- Requests ---- */

static struct nlmsghdr *
xfrm_msg_start (XfrmMsgBuf *buf, guint16 type, guint16 flags)
{
  memset (buf->data, 0, MNL_NLMSG_HDRLEN + 1024);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf->data);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  return nlh;
}

static gboolean
xfrm_msg_put (XfrmMsgBuf *buf, struct nlmsghdr *nlh, guint16 type, gsize len, const void *data,
              GError **error)
{
  if (mnl_attr_put_check (nlh, buf->size, type, len, data))
    return TRUE;
  return xfrm_msg_invalid (error, "message too large");
}

/* A variable-length algorithm attribute: @head (the struct with the name and
 * lengths) followed by the key, through a scratch copy that is wiped. */
static gboolean
xfrm_msg_put_alg (XfrmMsgBuf *buf, struct nlmsghdr *nlh, guint16 type, const void *head,
                  gsize head_len, const guint8 *key, gsize key_len, GError **error)
{
  guint8 scratch[XFRM_ALG_SCRATCH];
  g_assert (head_len + key_len <= sizeof scratch);
  memcpy (scratch, head, head_len);
  memcpy (scratch + head_len, key, key_len);
  gboolean ok = xfrm_msg_put (buf, nlh, type, head_len + key_len, scratch, error);
  explicit_bzero (scratch, sizeof scratch);
  return ok;
}

static gboolean
xfrm_msg_put_aead (XfrmMsgBuf *buf, struct nlmsghdr *nlh, const XfrmSa *sa,
                   const XfrmAlgorithm *encr, GError **error)
{
  struct xfrm_algo_aead head = { 0 };
  g_strlcpy (head.alg_name, encr->kernel_name, sizeof head.alg_name);
  head.alg_key_len = sa->encr_key_len * 8; /* the salt included, as the kernel wants */
  head.alg_icv_len = encr->icv_bits;
  return xfrm_msg_put_alg (buf, nlh, XFRMA_ALG_AEAD, &head, sizeof head, sa->encr_key,
                           sa->encr_key_len, error);
}

static gboolean
xfrm_msg_put_encr_integ (XfrmMsgBuf *buf, struct nlmsghdr *nlh, const XfrmSa *sa,
                         const XfrmAlgorithm *encr, GError **error)
{
  const XfrmAlgorithm *integ = xfrm_algorithm_lookup (IKE_TRANSFORM_INTEG, sa->integ);
  struct xfrm_algo crypt = { 0 };
  struct xfrm_algo_auth auth = { 0 };
  g_strlcpy (crypt.alg_name, encr->kernel_name, sizeof crypt.alg_name);
  crypt.alg_key_len = sa->encr_key_len * 8;
  g_strlcpy (auth.alg_name, integ->kernel_name, sizeof auth.alg_name);
  auth.alg_key_len = sa->integ_key_len * 8;
  auth.alg_trunc_len = integ->icv_bits;
  return xfrm_msg_put_alg (buf, nlh, XFRMA_ALG_CRYPT, &crypt, sizeof crypt, sa->encr_key,
                           sa->encr_key_len, error)
         && xfrm_msg_put_alg (buf, nlh, XFRMA_ALG_AUTH_TRUNC, &auth, sizeof auth, sa->integ_key,
                              sa->integ_key_len, error);
}

/* ESN, or a window too large for the legacy 32-bit bitmap, needs the ESN
 * replay state; the legacy field must then stay 0 (the kernel insists). */
static gboolean
xfrm_msg_put_replay (XfrmMsgBuf *buf, struct nlmsghdr *nlh, const XfrmSa *sa,
                     struct xfrm_usersa_info *info, GError **error)
{
  if (!sa->esn && sa->replay_window <= 32)
    {
      info->replay_window = sa->replay_window;
      return TRUE;
    }
  guint32 words = MAX (1u, (sa->replay_window + 31) / 32);
  gsize len = sizeof (struct xfrm_replay_state_esn) + words * sizeof (guint32);
  g_autofree struct xfrm_replay_state_esn *esn = g_malloc0 (len);
  esn->bmp_len = words;
  esn->replay_window = sa->replay_window;
  if (sa->esn)
    info->flags |= XFRM_STATE_ESN;
  return xfrm_msg_put (buf, nlh, XFRMA_REPLAY_ESN_VAL, len, esn, error);
}

static gboolean
xfrm_msg_put_encap (XfrmMsgBuf *buf, struct nlmsghdr *nlh, const XfrmSa *sa, GError **error)
{
  struct xfrm_encap_tmpl encap = { 0 };
  if (sa->encap_sport == 0)
    return TRUE;
  encap.encap_type = UDP_ENCAP_ESPINUDP;
  encap.encap_sport = htons (sa->encap_sport);
  encap.encap_dport = htons (sa->encap_dport);
  return xfrm_msg_put (buf, nlh, XFRMA_ENCAP, sizeof encap, &encap, error);
}

/* The SA's selector: given, or what the mode implies (the kernel refuses an
 * unspecified selector in transport mode). */
static void
xfrm_msg_sa_selector (const XfrmSa *sa, struct xfrm_selector *out)
{
  XfrmSelector sel = sa->sel;
  if (sel.src.family == 0 && sa->mode == XFRM_TRANSPORT)
    xfrm_selector_host_pair (&sel, &sa->src, &sa->dst);
  else if (sel.src.family == 0)
    sel.src.family = sel.dst.family = sa->src.family;
  xfrm_msg_selector_to_kernel (&sel, out);
}

struct nlmsghdr *
xfrm_msg_new_sa (XfrmMsgBuf *buf, const XfrmSa *sa, gboolean update, GError **error)
{
  if (!xfrm_msg_check_sa (sa, error))
    return NULL;
  struct nlmsghdr *nlh = xfrm_msg_start (buf, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0);
  struct xfrm_usersa_info *info = mnl_nlmsg_put_extra_header (nlh, sizeof *info);
  const XfrmAlgorithm *encr = xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, sa->encr);

  xfrm_msg_sa_selector (sa, &info->sel);
  xfrm_msg_addr_to_kernel (&sa->dst, &info->id.daddr);
  xfrm_msg_addr_to_kernel (&sa->src, &info->saddr);
  info->id.spi = htonl (sa->spi);
  info->id.proto = IPPROTO_ESP;
  info->family = sa->src.family;
  info->mode = sa->mode;
  info->reqid = sa->reqid;
  info->seq = sa->acquire_seq;
  xfrm_msg_lifetime_to_kernel (&sa->life, &info->lft);
  gboolean ok = encr->aead ? xfrm_msg_put_aead (buf, nlh, sa, encr, error)
                           : xfrm_msg_put_encr_integ (buf, nlh, sa, encr, error);
  if (!ok || !xfrm_msg_put_replay (buf, nlh, sa, info, error)
      || !xfrm_msg_put_encap (buf, nlh, sa, error))
    return NULL;
  return nlh;
}

struct nlmsghdr *
xfrm_msg_sa_id (XfrmMsgBuf *buf, guint16 type, const XfrmAddr *dst, guint32 spi)
{
  struct nlmsghdr *nlh = xfrm_msg_start (buf, type, 0);
  struct xfrm_usersa_id *id = mnl_nlmsg_put_extra_header (nlh, sizeof *id);
  xfrm_msg_addr_to_kernel (dst, &id->daddr);
  id->spi = htonl (spi);
  id->family = dst->family;
  id->proto = IPPROTO_ESP;
  return nlh;
}

struct nlmsghdr *
xfrm_msg_alloc_spi (XfrmMsgBuf *buf, const XfrmAddr *src, const XfrmAddr *dst, XfrmMode mode,
                    guint32 reqid, guint32 min, guint32 max)
{
  struct nlmsghdr *nlh = xfrm_msg_start (buf, XFRM_MSG_ALLOCSPI, 0);
  struct xfrm_userspi_info *spi = mnl_nlmsg_put_extra_header (nlh, sizeof *spi);
  xfrm_msg_addr_to_kernel (dst, &spi->info.id.daddr);
  xfrm_msg_addr_to_kernel (src, &spi->info.saddr);
  spi->info.id.proto = IPPROTO_ESP;
  spi->info.family = dst->family;
  spi->info.mode = mode;
  spi->info.reqid = reqid;
  spi->min = min;
  spi->max = max;
  return nlh;
}

static void
xfrm_msg_template (const XfrmPolicy *policy, struct xfrm_user_tmpl *tmpl)
{
  memset (tmpl, 0, sizeof *tmpl);
  tmpl->id.proto = IPPROTO_ESP;
  tmpl->family = policy->mode == XFRM_TUNNEL ? policy->tmpl_src.family : policy->sel.src.family;
  if (policy->tmpl_src.family)
    xfrm_msg_addr_to_kernel (&policy->tmpl_src, &tmpl->saddr);
  if (policy->tmpl_dst.family)
    xfrm_msg_addr_to_kernel (&policy->tmpl_dst, &tmpl->id.daddr);
  tmpl->reqid = policy->reqid;
  tmpl->mode = policy->mode;
  /* Any algorithm: the SA, not the policy, says which. */
  tmpl->aalgos = tmpl->ealgos = tmpl->calgos = ~0u;
}

struct nlmsghdr *
xfrm_msg_new_policy (XfrmMsgBuf *buf, const XfrmPolicy *policy, gboolean update, GError **error)
{
  if (!xfrm_msg_check_policy (policy, error))
    return NULL;
  struct nlmsghdr *nlh = xfrm_msg_start (buf, update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY, 0);
  struct xfrm_userpolicy_info *info = mnl_nlmsg_put_extra_header (nlh, sizeof *info);
  XfrmLifetime life
      = { .soft_seconds = policy->soft_seconds, .hard_seconds = policy->hard_seconds };

  xfrm_msg_selector_to_kernel (&policy->sel, &info->sel);
  xfrm_msg_lifetime_to_kernel (&life, &info->lft);
  info->priority = policy->priority;
  info->index = policy->index;
  info->dir = policy->dir;
  info->action = policy->action == XFRM_ACTION_DROP ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
  if (policy->action == XFRM_ACTION_TRAP || policy->action == XFRM_ACTION_IPSEC)
    {
      struct xfrm_user_tmpl tmpl;
      xfrm_msg_template (policy, &tmpl);
      if (!xfrm_msg_put (buf, nlh, XFRMA_TMPL, sizeof tmpl, &tmpl, error))
        return NULL;
    }
  return nlh;
}

struct nlmsghdr *
xfrm_msg_policy_id (XfrmMsgBuf *buf, guint16 type, const XfrmSelector *sel, XfrmDir dir,
                    guint32 index)
{
  struct nlmsghdr *nlh = xfrm_msg_start (buf, type, 0);
  struct xfrm_userpolicy_id *id = mnl_nlmsg_put_extra_header (nlh, sizeof *id);
  if (sel != NULL)
    xfrm_msg_selector_to_kernel (sel, &id->sel);
  id->dir = dir;
  id->index = index;
  return nlh;
}

struct nlmsghdr *
xfrm_msg_dump (XfrmMsgBuf *buf, guint16 type)
{
  /* No header: the kernel reads a GETSA dump's payload as attributes (an
   * optional filter), and a zeroed struct would be garbage to it. */
  return xfrm_msg_start (buf, type, NLM_F_DUMP);
}
