/* The XFRM message codec without a kernel: the algorithm table, requests
 * built and parsed back with libmnl, kernel events built by hand, and
 * malformed input. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "ike-types.h"
#include "xfrm-msg.h"

static const guint8 key36[36]
    = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
        0xdd, 0xee, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90,
        0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 };
static guint8 key64[64];

static XfrmAddr
addr (const char *text)
{
  XfrmAddr a;
  g_assert_true (xfrm_addr_parse (text, &a, NULL));
  return a;
}

/* ---- The table ---- */

static void
test_alg_table (void)
{
  const XfrmAlgorithm *gcm = xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16);
  const XfrmAlgorithm *chacha
      = xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, IKE_ENCR_CHACHA20_POLY1305);
  const XfrmAlgorithm *cbc = xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC);
  static const struct
  {
    guint16 id;
    const char *name;
    guint trunc, key;
  } integ[] = {
    { IKE_INTEG_HMAC_SHA2_256_128, "hmac(sha256)", 128, 256 },
    { IKE_INTEG_HMAC_SHA2_384_192, "hmac(sha384)", 192, 384 },
    { IKE_INTEG_HMAC_SHA2_512_256, "hmac(sha512)", 256, 512 },
  };

  g_assert_cmpstr (gcm->kernel_name, ==, "rfc4106(gcm(aes))");
  g_assert_true (gcm->aead);
  g_assert_cmpuint (gcm->icv_bits, ==, 128);
  g_assert_cmpuint (gcm->salt_bytes, ==, 4);
  g_assert_cmpstr (chacha->kernel_name, ==, "rfc7539esp(chacha20,poly1305)");
  g_assert_cmpuint (chacha->key_bits, ==, 256);
  g_assert_cmpuint (chacha->salt_bytes, ==, 4);
  g_assert_cmpstr (cbc->kernel_name, ==, "cbc(aes)");
  g_assert_false (cbc->aead);
  for (gsize i = 0; i < G_N_ELEMENTS (integ); i++)
    {
      const XfrmAlgorithm *alg = xfrm_algorithm_lookup (IKE_TRANSFORM_INTEG, integ[i].id);
      g_assert_cmpstr (alg->kernel_name, ==, integ[i].name);
      g_assert_cmpuint (alg->icv_bits, ==, integ[i].trunc);
      g_assert_cmpuint (alg->key_bits, ==, integ[i].key);
      g_assert_true (xfrm_algorithm_lookup_kernel (integ[i].name, integ[i].trunc) == alg);
    }
  /* The ICV length tells the GCM variants apart. */
  g_assert_cmpuint (xfrm_algorithm_lookup_kernel ("rfc4106(gcm(aes))", 64)->id, ==,
                    IKE_ENCR_AES_GCM_8);
  g_assert_null (xfrm_algorithm_lookup (IKE_TRANSFORM_ENCR, IKE_ENCR_3DES));
  g_assert_null (xfrm_algorithm_lookup (IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_MD5_96));
  g_assert_null (xfrm_algorithm_lookup_kernel ("cbc(des3_ede)", 0));
}

/* ---- SAs ---- */

static XfrmSa
gcm_sa (void)
{
  XfrmSa sa = { .spi = 0xc0ffee01,
                .mode = XFRM_TUNNEL,
                .reqid = XFRM_REQID_MIN + 7,
                .encr = IKE_ENCR_AES_GCM_16,
                .key_bits = 256,
                .encr_key = key36,
                .encr_key_len = 36,
                .esn = TRUE,
                .replay_window = 128,
                .encap_sport = 4500,
                .encap_dport = 4501,
                .acquire_seq = 42 };
  sa.src = addr ("192.0.2.1");
  sa.dst = addr ("192.0.2.2");
  sa.life = (XfrmLifetime){ .soft_bytes = 1000,
                            .hard_bytes = 2000,
                            .soft_packets = 10,
                            .hard_packets = 20,
                            .soft_seconds = 30,
                            .hard_seconds = 60 };
  return sa;
}

/* The attributes of a built message, by type, as libmnl walks them. */
static int
collect_cb (const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  if (mnl_attr_type_valid (attr, XFRMA_MAX) >= 0)
    tb[mnl_attr_get_type (attr)] = attr;
  return MNL_CB_OK;
}

static void
test_sa_aead_roundtrip (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  const struct nlattr *tb[XFRMA_MAX + 1] = { 0 };
  XfrmSa sa = gcm_sa ();
  XfrmSaInfo back;
  struct nlmsghdr *nlh = xfrm_msg_new_sa (buf, &sa, FALSE, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (nlh->nlmsg_type, ==, XFRM_MSG_NEWSA);
  mnl_attr_parse (nlh, sizeof (struct xfrm_usersa_info), collect_cb, tb);
  const struct xfrm_algo_aead *aead = mnl_attr_get_payload (tb[XFRMA_ALG_AEAD]);
  g_assert_cmpstr (aead->alg_name, ==, "rfc4106(gcm(aes))");
  g_assert_cmpuint (aead->alg_key_len, ==, 288); /* 256-bit key and the 32-bit salt */
  g_assert_cmpuint (aead->alg_icv_len, ==, 128);
  g_assert_null (tb[XFRMA_ALG_CRYPT]);
  g_assert_nonnull (tb[XFRMA_REPLAY_ESN_VAL]);
  const struct xfrm_usersa_info *info = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (info->replay_window, ==, 0); /* ESN: the kernel wants it 0 */
  g_assert_cmpuint (info->flags & XFRM_STATE_ESN, !=, 0);
  g_assert_cmpuint (info->id.proto, ==, IPPROTO_ESP);
  g_assert_cmpuint (info->sel.family, ==, AF_INET); /* tunnel: any IPv4 */
  g_assert_cmpuint (info->sel.prefixlen_d, ==, 0);

  g_assert_true (xfrm_msg_parse_sa (nlh, &back, &error));
  g_assert_no_error (error);
  g_assert_true (xfrm_addr_equal (&back.sa.src, &sa.src));
  g_assert_true (xfrm_addr_equal (&back.sa.dst, &sa.dst));
  g_assert_cmphex (back.sa.spi, ==, sa.spi);
  g_assert_cmphex (back.sa.reqid, ==, sa.reqid);
  g_assert_cmpint (back.sa.mode, ==, XFRM_TUNNEL);
  g_assert_cmpuint (back.sa.encr, ==, IKE_ENCR_AES_GCM_16);
  g_assert_cmpuint (back.sa.key_bits, ==, 256);
  g_assert_cmpuint (back.sa.integ, ==, 0);
  g_assert_true (back.sa.esn);
  g_assert_cmpuint (back.sa.replay_window, ==, 128);
  g_assert_cmpmem (back.sa.encr_key, back.sa.encr_key_len, key36, 36);
  g_assert_cmpuint (back.sa.encap_sport, ==, 4500);
  g_assert_cmpuint (back.sa.encap_dport, ==, 4501);
  g_assert_cmpuint (back.sa.acquire_seq, ==, 42);
  g_assert_true (memcmp (&back.sa.life, &sa.life, sizeof sa.life) == 0);
}

static void
test_sa_cbc_roundtrip (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  const struct nlattr *tb[XFRMA_MAX + 1] = { 0 };
  XfrmSa sa = { .spi = 0x1234,
                .mode = XFRM_TRANSPORT,
                .reqid = XFRM_REQID_MAX,
                .encr = IKE_ENCR_AES_CBC,
                .key_bits = 128,
                .integ = IKE_INTEG_HMAC_SHA2_384_192,
                .encr_key = key36,
                .encr_key_len = 16,
                .integ_key = key64,
                .integ_key_len = 48,
                .replay_window = 32 };
  XfrmSaInfo back;
  sa.src = addr ("2001:db8::1");
  sa.dst = addr ("2001:db8::2");
  struct nlmsghdr *nlh = xfrm_msg_new_sa (buf, &sa, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nlh->nlmsg_type, ==, XFRM_MSG_UPDSA);
  mnl_attr_parse (nlh, sizeof (struct xfrm_usersa_info), collect_cb, tb);
  g_assert_null (tb[XFRMA_REPLAY_ESN_VAL]); /* a small window fits the legacy field */
  g_assert_null (tb[XFRMA_ENCAP]);
  const struct xfrm_algo_auth *auth = mnl_attr_get_payload (tb[XFRMA_ALG_AUTH_TRUNC]);
  g_assert_cmpuint (auth->alg_trunc_len, ==, 192);
  g_assert_cmpuint (auth->alg_key_len, ==, 384);
  const struct xfrm_usersa_info *info = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (info->lft.hard_byte_limit, ==, XFRM_INF); /* 0 is "no limit" */
  g_assert_cmpuint (info->lft.hard_add_expires_seconds, ==, 0);

  g_assert_true (xfrm_msg_parse_sa (nlh, &back, &error));
  g_assert_cmpuint (back.sa.encr, ==, IKE_ENCR_AES_CBC);
  g_assert_cmpuint (back.sa.key_bits, ==, 128);
  g_assert_cmpuint (back.sa.integ, ==, IKE_INTEG_HMAC_SHA2_384_192);
  g_assert_cmpmem (back.sa.integ_key, back.sa.integ_key_len, key64, 48);
  g_assert_cmpuint (back.sa.replay_window, ==, 32);
  g_assert_false (back.sa.esn);
  /* Transport mode: the host pair as selector. */
  g_assert_cmpint (back.sa.sel.src.family, ==, AF_INET6);
  g_assert_cmpuint (back.sa.sel.src_prefix, ==, 128);
  g_assert_true (xfrm_addr_equal (&back.sa.sel.dst, &sa.dst));
  g_assert_cmpuint (back.sa.life.hard_bytes, ==, 0);
}

static void
test_sa_chacha (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  XfrmSa sa = gcm_sa ();
  XfrmSaInfo back;
  sa.encr = IKE_ENCR_CHACHA20_POLY1305;
  sa.key_bits = 0;
  struct nlmsghdr *nlh = xfrm_msg_new_sa (buf, &sa, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (xfrm_msg_parse_sa (nlh, &back, &error));
  g_assert_cmpuint (back.sa.encr, ==, IKE_ENCR_CHACHA20_POLY1305);
  g_assert_cmpmem (back.sa.encr_key, back.sa.encr_key_len, key36, 36);

  sa.encr_key_len = 32; /* the salt is missing */
  g_assert_null (xfrm_msg_new_sa (buf, &sa, FALSE, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "36 bytes"));
}

static void
check_refused (XfrmSa *sa, gint code)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (xfrm_msg_check_sa (sa, &error));
  g_assert_error (error, XFRM_ERROR, code);
  *sa = gcm_sa ();
}

static void
test_sa_checks (void)
{
  XfrmSa sa = gcm_sa ();
  g_assert_true (xfrm_msg_check_sa (&sa, NULL));
  sa.reqid = 1; /* another daemon's range */
  check_refused (&sa, XFRM_ERROR_INVALID);
  sa.integ = IKE_INTEG_HMAC_SHA2_256_128; /* with an AEAD */
  check_refused (&sa, XFRM_ERROR_INVALID);
  sa.encr = IKE_ENCR_3DES;
  check_refused (&sa, XFRM_ERROR_UNSUPPORTED);
  sa.encr = IKE_ENCR_AES_CBC;
  sa.encr_key_len = 32; /* and no integrity algorithm */
  check_refused (&sa, XFRM_ERROR_UNSUPPORTED);
  sa.dst = addr ("2001:db8::2");
  check_refused (&sa, XFRM_ERROR_INVALID);
  sa.spi = 0;
  check_refused (&sa, XFRM_ERROR_INVALID);
  sa.key_bits = 100;
  check_refused (&sa, XFRM_ERROR_INVALID);
  sa.encap_dport = 0;
  check_refused (&sa, XFRM_ERROR_INVALID);
}

static void
test_sa_id_and_spi (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  XfrmAddr dst = addr ("198.51.100.7"), src = addr ("198.51.100.8");
  struct nlmsghdr *nlh = xfrm_msg_sa_id (buf, XFRM_MSG_DELSA, &dst, 0xabcdef01);
  const struct xfrm_usersa_id *id = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (nlh->nlmsg_type, ==, XFRM_MSG_DELSA);
  g_assert_cmphex (ntohl (id->spi), ==, 0xabcdef01);
  g_assert_cmpuint (id->family, ==, AF_INET);
  g_assert_cmpmem (&id->daddr, 4, dst.bytes, 4);

  nlh = xfrm_msg_alloc_spi (buf, &src, &dst, XFRM_TUNNEL, XFRM_REQID_MIN, 0x100, 0x1ff);
  const struct xfrm_userspi_info *spi = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (nlh->nlmsg_type, ==, XFRM_MSG_ALLOCSPI);
  g_assert_cmpuint (spi->min, ==, 0x100);
  g_assert_cmpuint (spi->max, ==, 0x1ff);
  g_assert_cmpuint (spi->info.reqid, ==, XFRM_REQID_MIN);
  g_assert_cmpmem (&spi->info.saddr, 4, src.bytes, 4);
}

/* ---- Policies ---- */

static XfrmPolicy
trap_policy (void)
{
  XfrmPolicy p = { .dir = XFRM_DIR_OUT,
                   .action = XFRM_ACTION_TRAP,
                   .priority = 1234,
                   .mode = XFRM_TRANSPORT,
                   .reqid = XFRM_REQID_MIN + 1,
                   .hard_seconds = 90,
                   .index = XFRM_INDEX_TAG | 8 | XFRM_DIR_OUT };
  g_assert_true (xfrm_prefix_parse ("192.0.2.0/24", &p.sel.src, &p.sel.src_prefix, NULL));
  g_assert_true (xfrm_prefix_parse ("203.0.113.0/25", &p.sel.dst, &p.sel.dst_prefix, NULL));
  p.sel.proto = IPPROTO_TCP;
  p.sel.dport = 443;
  return p;
}

static void
test_policy_roundtrip (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  XfrmPolicy p = trap_policy (), back;
  struct nlmsghdr *nlh = xfrm_msg_new_policy (buf, &p, FALSE, &error);
  g_assert_no_error (error);
  const struct xfrm_userpolicy_info *info = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (info->action, ==, XFRM_POLICY_ALLOW);
  g_assert_cmphex (info->sel.dport_mask, ==, 0xffff);
  g_assert_cmphex (info->sel.sport_mask, ==, 0);
  g_assert_true (xfrm_msg_parse_policy (nlh, &back, &error));
  g_assert_true (xfrm_selector_equal (&back.sel, &p.sel));
  g_assert_cmpint (back.action, ==, XFRM_ACTION_IPSEC); /* a trap reads back as ipsec */
  g_assert_cmpuint (back.priority, ==, 1234);
  g_assert_cmphex (back.index, ==, p.index);
  g_assert_cmphex (back.reqid, ==, p.reqid);
  g_assert_cmpuint (back.hard_seconds, ==, 90);
  g_assert_cmpint (back.tmpl_src.family, ==, 0); /* transport: no addresses */

  p.action = XFRM_ACTION_IPSEC;
  p.mode = XFRM_TUNNEL;
  p.tmpl_src = addr ("198.51.100.1");
  p.tmpl_dst = addr ("198.51.100.2");
  nlh = xfrm_msg_new_policy (buf, &p, TRUE, &error);
  g_assert_cmpuint (nlh->nlmsg_type, ==, XFRM_MSG_UPDPOLICY);
  g_assert_true (xfrm_msg_parse_policy (nlh, &back, &error));
  g_assert_cmpint (back.mode, ==, XFRM_TUNNEL);
  g_assert_true (xfrm_addr_equal (&back.tmpl_dst, &p.tmpl_dst));

  p.action = XFRM_ACTION_DROP;
  nlh = xfrm_msg_new_policy (buf, &p, FALSE, &error);
  info = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (info->action, ==, XFRM_POLICY_BLOCK);
  g_assert_true (xfrm_msg_parse_policy (nlh, &back, &error));
  g_assert_cmpint (back.action, ==, XFRM_ACTION_DROP);
  g_assert_cmphex (back.reqid, ==, 0); /* no template */

  p.action = XFRM_ACTION_PASS;
  nlh = xfrm_msg_new_policy (buf, &p, FALSE, &error);
  g_assert_true (xfrm_msg_parse_policy (nlh, &back, &error));
  g_assert_cmpint (back.action, ==, XFRM_ACTION_PASS);
}

static void
test_policy_checks (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  XfrmPolicy p = trap_policy ();
  GError *error = NULL;
  p.sel.dst_prefix = 33;
  g_assert_null (xfrm_msg_new_policy (buf, &p, FALSE, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_INVALID);
  g_clear_error (&error);
  p = trap_policy ();
  p.sel.proto = 0; /* ports without a protocol */
  g_assert_false (xfrm_msg_check_policy (&p, &error));
  g_clear_error (&error);
  p = trap_policy ();
  p.mode = XFRM_TUNNEL; /* without outer addresses */
  g_assert_false (xfrm_msg_check_policy (&p, &error));
  g_clear_error (&error);
  p = trap_policy ();
  p.reqid = 5;
  g_assert_false (xfrm_msg_check_policy (&p, &error));
  g_clear_error (&error);
}

/* ---- Events, as the kernel would send them ---- */

static struct nlmsghdr *
event_start (XfrmMsgBuf *buf, guint16 type, gsize len, void **payload)
{
  memset (buf->data, 0, 4096);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf->data);
  nlh->nlmsg_type = type;
  *payload = mnl_nlmsg_put_extra_header (nlh, len);
  return nlh;
}

static struct nlmsghdr *
acquire_msg (XfrmMsgBuf *buf, gsize tmpl_len)
{
  struct xfrm_user_acquire *acq;
  struct nlmsghdr *nlh = event_start (buf, XFRM_MSG_ACQUIRE, sizeof *acq, (void **) &acq);
  struct xfrm_user_tmpl tmpl = { .family = AF_INET, .reqid = XFRM_REQID_MIN + 3 };
  XfrmSelector flow = { 0 };
  XfrmAddr a = addr ("192.0.2.1"), b = addr ("192.0.2.2");
  xfrm_selector_host_pair (&flow, &a, &b);
  flow.proto = IPPROTO_UDP;
  flow.sport = 40000;
  flow.dport = 7;
  xfrm_msg_selector_to_kernel (&flow, &acq->sel);
  xfrm_msg_addr_to_kernel (&a, &acq->saddr);
  xfrm_msg_addr_to_kernel (&b, &acq->id.daddr);
  acq->policy.index = XFRM_INDEX_TAG | 0x10 | 1;
  acq->policy.dir = XFRM_DIR_OUT;
  acq->seq = 77;
  mnl_attr_put (nlh, XFRMA_TMPL, tmpl_len, &tmpl);
  return nlh;
}

static void
test_event_acquire (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  XfrmEvent ev;
  struct nlmsghdr *nlh = acquire_msg (buf, sizeof (struct xfrm_user_tmpl));
  g_assert_true (xfrm_msg_parse_event (nlh, &ev, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ev.kind, ==, XFRM_EVENT_ACQUIRE);
  g_autofree char *src = xfrm_addr_to_string (&ev.src);
  g_autofree char *dst = xfrm_addr_to_string (&ev.dst);
  g_assert_cmpstr (src, ==, "192.0.2.1");
  g_assert_cmpstr (dst, ==, "192.0.2.2");
  g_assert_cmpuint (ev.sel.proto, ==, IPPROTO_UDP);
  g_assert_cmpuint (ev.sel.sport, ==, 40000);
  g_assert_cmpuint (ev.sel.dport, ==, 7);
  g_assert_cmphex (ev.reqid, ==, XFRM_REQID_MIN + 3);
  g_assert_cmphex (ev.policy_index, ==, XFRM_INDEX_TAG | 0x11);
  g_assert_cmpuint (ev.seq, ==, 77);

  /* A template attribute too short for its struct: refused, not read. */
  nlh = acquire_msg (buf, 8);
  g_assert_false (xfrm_msg_parse_event (nlh, &ev, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_FAILED);
}

static void
test_event_expire_mapping (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  XfrmEvent ev;
  struct xfrm_user_expire *exp;
  struct nlmsghdr *nlh = event_start (buf, XFRM_MSG_EXPIRE, sizeof *exp, (void **) &exp);
  exp->state.family = AF_INET6;
  exp->state.id.spi = htonl (0x5000);
  exp->state.reqid = XFRM_REQID_MIN;
  exp->hard = 1;
  g_assert_true (xfrm_msg_parse_event (nlh, &ev, NULL));
  g_assert_cmpint (ev.kind, ==, XFRM_EVENT_EXPIRE);
  g_assert_cmphex (ev.spi, ==, 0x5000);
  g_assert_true (ev.hard);
  g_assert_cmpint (ev.dst.family, ==, AF_INET6);

  struct xfrm_user_polexpire *pexp;
  nlh = event_start (buf, XFRM_MSG_POLEXPIRE, sizeof *pexp, (void **) &pexp);
  pexp->pol.index = XFRM_INDEX_TAG | 0x20;
  pexp->pol.sel.family = AF_INET;
  g_assert_true (xfrm_msg_parse_event (nlh, &ev, NULL));
  g_assert_cmpint (ev.kind, ==, XFRM_EVENT_POLEXPIRE);
  g_assert_cmphex (ev.policy_index, ==, XFRM_INDEX_TAG | 0x20);
  g_assert_false (ev.hard);

  struct xfrm_user_mapping *map;
  XfrmAddr nat = addr ("203.0.113.9");
  nlh = event_start (buf, XFRM_MSG_MAPPING, sizeof *map, (void **) &map);
  map->id.family = AF_INET;
  map->id.spi = htonl (0x6000);
  map->reqid = XFRM_REQID_MIN + 2;
  xfrm_msg_addr_to_kernel (&nat, &map->new_saddr);
  map->old_sport = htons (4500);
  map->new_sport = htons (31337);
  g_assert_true (xfrm_msg_parse_event (nlh, &ev, NULL));
  g_assert_cmpint (ev.kind, ==, XFRM_EVENT_MAPPING);
  g_assert_true (xfrm_addr_equal (&ev.new_addr, &nat));
  g_assert_cmpuint (ev.old_port, ==, 4500);
  g_assert_cmpuint (ev.new_port, ==, 31337);

  /* Not an event: FALSE without an error. */
  GError *error = NULL;
  nlh = event_start (buf, XFRM_MSG_NEWSA, 8, (void **) &map);
  g_assert_false (xfrm_msg_parse_event (nlh, &ev, &error));
  g_assert_no_error (error);
}

static void
test_malformed (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  XfrmSa sa = gcm_sa ();
  XfrmSaInfo back;
  struct nlmsghdr *nlh = xfrm_msg_new_sa (buf, &sa, FALSE, &error);

  /* A key that claims to be longer than its attribute. */
  const struct nlattr *tb[XFRMA_MAX + 1] = { 0 };
  mnl_attr_parse (nlh, sizeof (struct xfrm_usersa_info), collect_cb, tb);
  ((struct xfrm_algo_aead *) mnl_attr_get_payload (tb[XFRMA_ALG_AEAD]))->alg_key_len = 4096;
  g_assert_false (xfrm_msg_parse_sa (nlh, &back, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_FAILED);
  g_clear_error (&error);

  /* A header cut short. */
  nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 16;
  g_assert_false (xfrm_msg_parse_sa (nlh, &back, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_FAILED);
}

/* Netlink only promises 4-byte alignment, and the kernel's structs hold
 * 64-bit counters: every parser must cope (UBSan checks in the asan setup). */
static void
test_misaligned (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  g_autoptr (XfrmMsgBuf) shifted = xfrm_msg_buf_new ();
  g_autoptr (GError) error = NULL;
  XfrmSa sa = gcm_sa ();
  XfrmPolicy p = trap_policy (), back_policy;
  XfrmSaInfo back;
  XfrmEvent ev;
  struct nlmsghdr *nlh = xfrm_msg_new_sa (buf, &sa, FALSE, &error);
  memcpy (shifted->data + 4, nlh, nlh->nlmsg_len);
  g_assert_true (xfrm_msg_parse_sa ((struct nlmsghdr *) (shifted->data + 4), &back, &error));
  g_assert_cmphex (back.sa.spi, ==, sa.spi);
  g_assert_cmpuint (back.sa.life.hard_bytes, ==, 2000);

  nlh = xfrm_msg_new_policy (buf, &p, FALSE, &error);
  memcpy (shifted->data + 4, nlh, nlh->nlmsg_len);
  g_assert_true (
      xfrm_msg_parse_policy ((struct nlmsghdr *) (shifted->data + 4), &back_policy, &error));
  g_assert_cmpuint (back_policy.hard_seconds, ==, 90);

  nlh = acquire_msg (buf, sizeof (struct xfrm_user_tmpl));
  memcpy (shifted->data + 4, nlh, nlh->nlmsg_len);
  g_assert_true (xfrm_msg_parse_event ((struct nlmsghdr *) (shifted->data + 4), &ev, &error));
  g_assert_cmpuint (ev.seq, ==, 77);
}

/* Random bytes behind a valid netlink header: never a crash (run under
 * ASan in the asan setup). */
static void
test_random_input (void)
{
  g_autoptr (XfrmMsgBuf) buf = xfrm_msg_buf_new ();
  static const guint16 types[] = { XFRM_MSG_NEWSA,  XFRM_MSG_NEWPOLICY, XFRM_MSG_ACQUIRE,
                                   XFRM_MSG_EXPIRE, XFRM_MSG_POLEXPIRE, XFRM_MSG_MAPPING };
  GRand *rand = g_rand_new_with_seed (4106);
  for (guint i = 0; i < 20000; i++)
    {
      guint32 len = g_rand_int_range (rand, 0, 600);
      struct nlmsghdr *nlh = (struct nlmsghdr *) buf->data;
      XfrmSaInfo sa;
      XfrmPolicy policy;
      XfrmEvent ev;
      for (guint32 j = 0; j < len; j++)
        buf->data[MNL_NLMSG_HDRLEN + j] = g_rand_int (rand);
      nlh->nlmsg_len = MNL_NLMSG_HDRLEN + len;
      nlh->nlmsg_type = types[i % G_N_ELEMENTS (types)];
      g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
      xfrm_msg_parse_sa (nlh, &sa, &e1);
      xfrm_msg_parse_policy (nlh, &policy, &e2);
      xfrm_msg_parse_event (nlh, &ev, &e3);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  memset (key64, 0x5a, sizeof key64);
  g_test_add_func ("/xfrm/msg/alg-table", test_alg_table);
  g_test_add_func ("/xfrm/msg/sa-aead-roundtrip", test_sa_aead_roundtrip);
  g_test_add_func ("/xfrm/msg/sa-cbc-roundtrip", test_sa_cbc_roundtrip);
  g_test_add_func ("/xfrm/msg/sa-chacha", test_sa_chacha);
  g_test_add_func ("/xfrm/msg/sa-checks", test_sa_checks);
  g_test_add_func ("/xfrm/msg/sa-id-and-spi", test_sa_id_and_spi);
  g_test_add_func ("/xfrm/msg/policy-roundtrip", test_policy_roundtrip);
  g_test_add_func ("/xfrm/msg/policy-checks", test_policy_checks);
  g_test_add_func ("/xfrm/msg/event-acquire", test_event_acquire);
  g_test_add_func ("/xfrm/msg/event-expire-mapping", test_event_expire_mapping);
  g_test_add_func ("/xfrm/msg/malformed", test_malformed);
  g_test_add_func ("/xfrm/msg/misaligned", test_misaligned);
  g_test_add_func ("/xfrm/msg/random-input", test_random_input);
  return g_test_run ();
}
