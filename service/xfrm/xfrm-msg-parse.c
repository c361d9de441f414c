/* Parsing what the kernel sends on NETLINK_XFRM, defensively: the fixed
 * header must be all there, every attribute we read is validated with libmnl
 * and long enough for its struct and for the key it claims to carry, and
 * attributes newer than our headers are skipped. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "ike-types.h"
#include "xfrm-msg.h"

typedef struct
{
  const struct nlattr *tb[XFRMA_MAX + 1];
  const guint8 *end; /* of the message: nlmsg_len, not libmnl's aligned tail */
} XfrmAttrs;

/* The least payload of each attribute we read; others are not kept. */
static const gsize xfrm_attr_min[XFRMA_MAX + 1] = {
  [XFRMA_ALG_AEAD] = sizeof (struct xfrm_algo_aead),
  [XFRMA_ALG_CRYPT] = sizeof (struct xfrm_algo),
  [XFRMA_ALG_AUTH_TRUNC] = sizeof (struct xfrm_algo_auth),
  [XFRMA_ENCAP] = sizeof (struct xfrm_encap_tmpl),
  [XFRMA_TMPL] = sizeof (struct xfrm_user_tmpl),
  [XFRMA_REPLAY_ESN_VAL] = sizeof (struct xfrm_replay_state_esn),
};

static int
xfrm_msg_attr_cb (const struct nlattr *attr, void *data)
{
  XfrmAttrs *attrs = data;
  guint16 type = mnl_attr_get_type (attr);

  if (mnl_attr_type_valid (attr, XFRMA_MAX) < 0 || xfrm_attr_min[type] == 0)
    return MNL_CB_OK;
  /* libmnl walks up to the aligned end, so an attribute may claim up to
   * three bytes past an unaligned nlmsg_len: not ours to read. */
  if (mnl_attr_validate (attr, MNL_TYPE_BINARY) < 0
      || mnl_attr_get_payload_len (attr) < xfrm_attr_min[type]
      || (gsize) (attrs->end - (const guint8 *) attr) < attr->nla_len)
    return MNL_CB_ERROR;
  attrs->tb[type] = attr;
  return MNL_CB_OK;
}

static gboolean
xfrm_msg_bad (GError **error, const char *what, guint16 type)
{
  g_set_error (error, XFRM_ERROR, XFRM_ERROR_FAILED,
               "malformed XFRM message %u from the kernel: %s", type, what);
  return FALSE;
}

/* The fixed header of @header_len bytes, then the attributes after it. */
static gboolean
xfrm_msg_attrs (const struct nlmsghdr *nlh, gsize header_len, XfrmAttrs *attrs, GError **error)
{
  memset (attrs, 0, sizeof *attrs);
  attrs->end = (const guint8 *) nlh + nlh->nlmsg_len;
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || mnl_nlmsg_get_payload_len (nlh) < header_len)
    return xfrm_msg_bad (error, "truncated header", nlh->nlmsg_type);
  if (mnl_nlmsg_get_payload_len (nlh) > MNL_ALIGN (header_len)
      && mnl_attr_parse (nlh, header_len, xfrm_msg_attr_cb, attrs) < 0)
    return xfrm_msg_bad (error, "bad attribute", nlh->nlmsg_type);
  return TRUE;
}

/* Netlink keeps messages 4-byte aligned, and the kernel's structs hold
 * 64-bit counters: read the fixed header through an aligned copy. */
static void
xfrm_msg_header (const struct nlmsghdr *nlh, void *out, gsize len)
{
  memcpy (out, mnl_nlmsg_get_payload (nlh), len);
}

static int
xfrm_msg_family (guint16 family)
{
  return family == AF_INET || family == AF_INET6 ? family : 0;
}

static guint64
xfrm_msg_unlimited (guint64 value)
{
  return value == XFRM_INF ? 0 : value;
}

/* The key after an algorithm's fixed head: as long as it claims, in bytes,
 * and all of it inside the attribute. */
static const guint8 *
xfrm_msg_alg_key (const struct nlattr *attr, gsize head_len, guint key_bits, gsize *key_len)
{
  gsize len = (key_bits + 7) / 8;
  if (mnl_attr_get_payload_len (attr) < head_len + len)
    return NULL;
  *key_len = len;
  return (const guint8 *) mnl_attr_get_payload (attr) + head_len;
}

static gboolean
xfrm_msg_parse_aead (const struct nlattr *attr, XfrmSa *sa)
{
  const struct xfrm_algo_aead *head = mnl_attr_get_payload (attr);
  char name[sizeof head->alg_name + 1] = { 0 };
  memcpy (name, head->alg_name, sizeof head->alg_name);
  sa->encr_key = xfrm_msg_alg_key (attr, sizeof *head, head->alg_key_len, &sa->encr_key_len);
  if (sa->encr_key == NULL)
    return FALSE;
  const XfrmAlgorithm *alg = xfrm_algorithm_lookup_kernel (name, head->alg_icv_len);
  if (alg != NULL && sa->encr_key_len >= alg->salt_bytes)
    {
      sa->encr = alg->id;
      sa->key_bits = alg->key_bits ? 0 : (sa->encr_key_len - alg->salt_bytes) * 8;
    }
  return TRUE;
}

static gboolean
xfrm_msg_parse_crypt (const struct nlattr *attr, XfrmSa *sa)
{
  const struct xfrm_algo *head = mnl_attr_get_payload (attr);
  char name[sizeof head->alg_name + 1] = { 0 };
  memcpy (name, head->alg_name, sizeof head->alg_name);
  sa->encr_key = xfrm_msg_alg_key (attr, sizeof *head, head->alg_key_len, &sa->encr_key_len);
  if (sa->encr_key == NULL)
    return FALSE;
  const XfrmAlgorithm *alg = xfrm_algorithm_lookup_kernel (name, 0);
  if (alg != NULL && !alg->aead && sa->encr_key_len >= alg->salt_bytes)
    {
      sa->encr = alg->id;
      sa->key_bits = (sa->encr_key_len - alg->salt_bytes) * 8;
    }
  return TRUE;
}

static gboolean
xfrm_msg_parse_auth (const struct nlattr *attr, XfrmSa *sa)
{
  const struct xfrm_algo_auth *head = mnl_attr_get_payload (attr);
  char name[sizeof head->alg_name + 1] = { 0 };
  memcpy (name, head->alg_name, sizeof head->alg_name);
  sa->integ_key = xfrm_msg_alg_key (attr, sizeof *head, head->alg_key_len, &sa->integ_key_len);
  if (sa->integ_key == NULL)
    return FALSE;
  const XfrmAlgorithm *alg = xfrm_algorithm_lookup_kernel (name, head->alg_trunc_len);
  if (alg != NULL && alg->transform_type == IKE_TRANSFORM_INTEG)
    sa->integ = alg->id;
  return TRUE;
}

static void
xfrm_msg_parse_sa_extras (const XfrmAttrs *attrs, XfrmSa *sa)
{
  if (attrs->tb[XFRMA_REPLAY_ESN_VAL] != NULL)
    {
      const struct xfrm_replay_state_esn *esn
          = mnl_attr_get_payload (attrs->tb[XFRMA_REPLAY_ESN_VAL]);
      sa->replay_window = esn->replay_window;
    }
  if (attrs->tb[XFRMA_ENCAP] != NULL)
    {
      const struct xfrm_encap_tmpl *encap = mnl_attr_get_payload (attrs->tb[XFRMA_ENCAP]);
      sa->encap_sport = ntohs (encap->encap_sport);
      sa->encap_dport = ntohs (encap->encap_dport);
    }
}

static void
xfrm_msg_parse_sa_info (const struct xfrm_usersa_info *in, XfrmSaInfo *info)
{
  XfrmSa *sa = &info->sa;
  int family = xfrm_msg_family (in->family);
  xfrm_msg_addr_from_kernel (&in->saddr, family, &sa->src);
  xfrm_msg_addr_from_kernel (&in->id.daddr, family, &sa->dst);
  sa->spi = ntohl (in->id.spi);
  sa->mode = in->mode;
  sa->reqid = in->reqid;
  sa->esn = (in->flags & XFRM_STATE_ESN) != 0;
  sa->replay_window = in->replay_window;
  sa->acquire_seq = in->seq;
  if (xfrm_msg_family (in->sel.family))
    xfrm_msg_selector_from_kernel (&in->sel, &sa->sel);
  sa->life.soft_bytes = xfrm_msg_unlimited (in->lft.soft_byte_limit);
  sa->life.hard_bytes = xfrm_msg_unlimited (in->lft.hard_byte_limit);
  sa->life.soft_packets = xfrm_msg_unlimited (in->lft.soft_packet_limit);
  sa->life.hard_packets = xfrm_msg_unlimited (in->lft.hard_packet_limit);
  sa->life.soft_seconds = in->lft.soft_add_expires_seconds;
  sa->life.hard_seconds = in->lft.hard_add_expires_seconds;
  info->stats.bytes = in->curlft.bytes;
  info->stats.packets = in->curlft.packets;
  info->stats.add_time = in->curlft.add_time;
  info->stats.use_time = in->curlft.use_time;
  info->stats.replay_errors = in->stats.replay;
  info->stats.integrity_errors = in->stats.integrity_failed;
}

gboolean
xfrm_msg_parse_sa (const struct nlmsghdr *nlh, XfrmSaInfo *info, GError **error)
{
  XfrmAttrs attrs;
  memset (info, 0, sizeof *info);
  if (nlh->nlmsg_type != XFRM_MSG_NEWSA && nlh->nlmsg_type != XFRM_MSG_UPDSA)
    return xfrm_msg_bad (error, "not an SA", nlh->nlmsg_type);
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_usersa_info), &attrs, error))
    return FALSE;
  struct xfrm_usersa_info in;
  xfrm_msg_header (nlh, &in, sizeof in);
  xfrm_msg_parse_sa_info (&in, info);
  if ((attrs.tb[XFRMA_ALG_AEAD] && !xfrm_msg_parse_aead (attrs.tb[XFRMA_ALG_AEAD], &info->sa))
      || (attrs.tb[XFRMA_ALG_CRYPT] && !xfrm_msg_parse_crypt (attrs.tb[XFRMA_ALG_CRYPT], &info->sa))
      || (attrs.tb[XFRMA_ALG_AUTH_TRUNC]
          && !xfrm_msg_parse_auth (attrs.tb[XFRMA_ALG_AUTH_TRUNC], &info->sa)))
    return xfrm_msg_bad (error, "key longer than its attribute", nlh->nlmsg_type);
  xfrm_msg_parse_sa_extras (&attrs, &info->sa);
  return TRUE;
}

/* Only the bytes of the family count: an IPv4 address with garbage after
 * its four bytes is still 0.0.0.0, which the builder writes for "unset". */
static gboolean
xfrm_msg_addr_is_any (const xfrm_address_t *addr, int family)
{
  static const xfrm_address_t any;
  return memcmp (addr, &any, family == AF_INET ? 4 : sizeof any) == 0;
}

static void
xfrm_msg_parse_tmpl (const struct nlattr *attr, XfrmPolicy *policy)
{
  const struct xfrm_user_tmpl *tmpl = mnl_attr_get_payload (attr);
  int family = xfrm_msg_family (tmpl->family);
  policy->mode = tmpl->mode;
  policy->reqid = tmpl->reqid;
  /* Transport templates leave the addresses unset: so do we. */
  if (family && !xfrm_msg_addr_is_any (&tmpl->saddr, family))
    xfrm_msg_addr_from_kernel (&tmpl->saddr, family, &policy->tmpl_src);
  if (family && !xfrm_msg_addr_is_any (&tmpl->id.daddr, family))
    xfrm_msg_addr_from_kernel (&tmpl->id.daddr, family, &policy->tmpl_dst);
}

static void
xfrm_msg_parse_policy_info (const struct xfrm_userpolicy_info *in, XfrmPolicy *policy)
{
  xfrm_msg_selector_from_kernel (&in->sel, &policy->sel);
  policy->dir = in->dir;
  policy->priority = in->priority;
  policy->index = in->index;
  policy->soft_seconds = in->lft.soft_add_expires_seconds;
  policy->hard_seconds = in->lft.hard_add_expires_seconds;
  policy->action = in->action == XFRM_POLICY_BLOCK ? XFRM_ACTION_DROP : XFRM_ACTION_PASS;
}

/* The kernel cannot tell a trap from an ipsec policy (both allow through an
 * ESP template; a trap is one whose SA does not exist yet), so a policy with
 * a template reads back as XFRM_ACTION_IPSEC. */
gboolean
xfrm_msg_parse_policy (const struct nlmsghdr *nlh, XfrmPolicy *policy, GError **error)
{
  XfrmAttrs attrs;
  memset (policy, 0, sizeof *policy);
  if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY && nlh->nlmsg_type != XFRM_MSG_UPDPOLICY)
    return xfrm_msg_bad (error, "not a policy", nlh->nlmsg_type);
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_userpolicy_info), &attrs, error))
    return FALSE;
  struct xfrm_userpolicy_info in;
  xfrm_msg_header (nlh, &in, sizeof in);
  xfrm_msg_parse_policy_info (&in, policy);
  if (attrs.tb[XFRMA_TMPL] != NULL && policy->action == XFRM_ACTION_PASS)
    {
      policy->action = XFRM_ACTION_IPSEC;
      xfrm_msg_parse_tmpl (attrs.tb[XFRMA_TMPL], policy);
    }
  return TRUE;
}

/* ---- Events ---- */

static gboolean
xfrm_msg_parse_acquire (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error)
{
  XfrmAttrs attrs;
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_user_acquire), &attrs, error))
    return FALSE;
  struct xfrm_user_acquire acq_copy, *acq = &acq_copy;
  xfrm_msg_header (nlh, acq, sizeof *acq);
  int family = xfrm_msg_family (acq->sel.family);
  if (family == 0)
    return xfrm_msg_bad (error, "ACQUIRE without a flow", nlh->nlmsg_type);
  event->kind = XFRM_EVENT_ACQUIRE;
  xfrm_msg_selector_from_kernel (&acq->sel, &event->sel);
  event->policy_index = acq->policy.index;
  event->dir = acq->policy.dir;
  event->seq = acq->seq;
  if (attrs.tb[XFRMA_TMPL] != NULL)
    {
      const struct xfrm_user_tmpl *tmpl = mnl_attr_get_payload (attrs.tb[XFRMA_TMPL]);
      event->reqid = tmpl->reqid;
      family = xfrm_msg_family (tmpl->family) ? tmpl->family : family;
    }
  xfrm_msg_addr_from_kernel (&acq->saddr, family, &event->src);
  xfrm_msg_addr_from_kernel (&acq->id.daddr, family, &event->dst);
  return TRUE;
}

static gboolean
xfrm_msg_parse_expire (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error)
{
  XfrmAttrs attrs;
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_user_expire), &attrs, error))
    return FALSE;
  struct xfrm_user_expire exp_copy, *exp = &exp_copy;
  xfrm_msg_header (nlh, exp, sizeof *exp);
  int family = xfrm_msg_family (exp->state.family);
  event->kind = XFRM_EVENT_EXPIRE;
  xfrm_msg_addr_from_kernel (&exp->state.saddr, family, &event->src);
  xfrm_msg_addr_from_kernel (&exp->state.id.daddr, family, &event->dst);
  event->spi = ntohl (exp->state.id.spi);
  event->reqid = exp->state.reqid;
  event->hard = exp->hard != 0;
  return TRUE;
}

static gboolean
xfrm_msg_parse_polexpire (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error)
{
  XfrmAttrs attrs;
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_user_polexpire), &attrs, error))
    return FALSE;
  struct xfrm_user_polexpire exp_copy, *exp = &exp_copy;
  xfrm_msg_header (nlh, exp, sizeof *exp);
  event->kind = XFRM_EVENT_POLEXPIRE;
  xfrm_msg_selector_from_kernel (&exp->pol.sel, &event->sel);
  event->dir = exp->pol.dir;
  event->policy_index = exp->pol.index;
  event->hard = exp->hard != 0;
  return TRUE;
}

static gboolean
xfrm_msg_parse_mapping (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error)
{
  XfrmAttrs attrs;
  if (!xfrm_msg_attrs (nlh, sizeof (struct xfrm_user_mapping), &attrs, error))
    return FALSE;
  struct xfrm_user_mapping map_copy, *map = &map_copy;
  xfrm_msg_header (nlh, map, sizeof *map);
  int family = xfrm_msg_family (map->id.family);
  if (family == 0)
    return xfrm_msg_bad (error, "MAPPING without a family", nlh->nlmsg_type);
  event->kind = XFRM_EVENT_MAPPING;
  xfrm_msg_addr_from_kernel (&map->id.daddr, family, &event->dst);
  event->spi = ntohl (map->id.spi);
  event->reqid = map->reqid;
  xfrm_msg_addr_from_kernel (&map->old_saddr, family, &event->old_addr);
  xfrm_msg_addr_from_kernel (&map->new_saddr, family, &event->new_addr);
  event->old_port = ntohs (map->old_sport);
  event->new_port = ntohs (map->new_sport);
  return TRUE;
}

gboolean
xfrm_msg_parse_event (const struct nlmsghdr *nlh, XfrmEvent *event, GError **error)
{
  memset (event, 0, sizeof *event);
  switch (nlh->nlmsg_type)
    {
    case XFRM_MSG_ACQUIRE:
      return xfrm_msg_parse_acquire (nlh, event, error);
    case XFRM_MSG_EXPIRE:
      return xfrm_msg_parse_expire (nlh, event, error);
    case XFRM_MSG_POLEXPIRE:
      return xfrm_msg_parse_polexpire (nlh, event, error);
    case XFRM_MSG_MAPPING:
      return xfrm_msg_parse_mapping (nlh, event, error);
    default:
      return FALSE;
    }
}
