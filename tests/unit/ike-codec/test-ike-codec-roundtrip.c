/* Build → parse → build is byte-identical for every payload type, and the
 * parsed fields are the ones we built with.  If the parser dropped a field
 * or the builder wrote one wrong, a comparison here fails. */
#include <arpa/inet.h>
#include <string.h>

#include "ike-samples.h"

static const IkeHeader test_header = {
  .spi_i = G_GUINT64_CONSTANT (0x8877665544332211),
  .spi_r = G_GUINT64_CONSTANT (0x0123456789abcdef),
  .exchange = IKE_EXCHANGE_INFORMATIONAL,
  .flags = IKE_FLAG_INITIATOR,
  .message_id = 7,
};

static void
assert_slice (IkeSlice got, IkeSlice want)
{
  g_assert_cmpmem (got.data, got.len, want.data, want.len);
}

static IkeSlice
pat (guint8 seed, gsize len)
{
  return (IkeSlice){ ike_sample_pattern (seed, len), len };
}

static IkeSlice
str (const char *s)
{
  return (IkeSlice){ (const guint8 *) s, strlen (s) };
}

/* The one payload in an inner chain, built, parsed and built again. */
static IkeInner *
inner_roundtrip (const IkePayload *p)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeInnerBuilder) b = ike_inner_builder_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  guint8 first = 0, first_again = 0;
  IkeInner *inner;

  g_assert_true (ike_inner_builder_add (b, p, &error));
  g_assert_no_error (error);
  bytes = ike_inner_builder_free_to_bytes (g_steal_pointer (&b), &first);
  g_assert_cmpuint (first, ==, p->type);
  inner = ike_inner_parse (bytes, first, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ike_inner_get_n_payloads (inner), ==, 1);
  g_assert_cmpuint (ike_inner_get_payload (inner, 0)->type, ==, p->type);
  g_assert_cmpuint (ike_inner_get_payload (inner, 0)->offset, ==, 0);
  again = ike_inner_to_bytes (inner, &first_again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first_again, ==, first);
  g_assert_true (g_bytes_equal (bytes, again));
  return inner;
}

/* The same in a message, for the payloads that may travel in cleartext. */
static IkeMsg *
msg_roundtrip (const IkePayload *p)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&test_header);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  IkeMsg *msg;

  g_assert_true (ike_msg_builder_add (b, p, &error));
  g_assert_no_error (error);
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ike_msg_get_header (msg)->next_payload, ==, p->type);
  g_assert_cmpuint (ike_msg_get_header (msg)->length, ==, g_bytes_get_size (bytes));
  g_assert_cmpuint (ike_msg_get_n_payloads (msg), ==, 1);
  g_assert_cmpuint (ike_msg_get_payload (msg, 0)->offset, ==, IKE_HEADER_LEN);
  again = ike_msg_to_bytes (msg, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, again));
  return msg;
}

static const IkePayload *
only (IkeInner *inner)
{
  return ike_inner_get_payload (inner, 0);
}

/* ---- Header ---- */

static void
test_header_fields (void)
{
  IkePayload nonce = { .type = IKE_PAYLOAD_NONCE, .u.nonce = pat (1, 32) };
  g_autoptr (IkeMsg) msg = msg_roundtrip (&nonce);
  const IkeHeader *h = ike_msg_get_header (msg);

  g_assert_cmphex (h->spi_i, ==, test_header.spi_i);
  g_assert_cmphex (h->spi_r, ==, test_header.spi_r);
  g_assert_cmphex (h->version, ==, IKE_VERSION);
  g_assert_cmpuint (h->exchange, ==, IKE_EXCHANGE_INFORMATIONAL);
  g_assert_cmphex (h->flags, ==, IKE_FLAG_INITIATOR);
  g_assert_cmpuint (h->message_id, ==, 7);
  g_assert_cmpuint (h->length, ==, IKE_HEADER_LEN + 4 + 32);
}

/* ---- SA ---- */

static void
add_transform (IkeProposal *p, guint8 type, guint16 id, guint16 key_length)
{
  p->transforms[p->n_transforms++] = (IkeTransform){ type, id, key_length };
}

static void
assert_proposals (const IkePayloadSa *got, const IkeProposal *want, guint n)
{
  g_assert_cmpuint (got->n_proposals, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const IkeProposal *g = &got->proposals[i], *w = &want[i];

      g_assert_cmpuint (g->number, ==, w->number);
      g_assert_cmpuint (g->protocol, ==, w->protocol);
      g_assert_cmpmem (g->spi, g->spi_len, w->spi, w->spi_len);
      g_assert_cmpuint (g->n_transforms, ==, w->n_transforms);
      for (guint t = 0; t < w->n_transforms; t++)
        {
          g_assert_cmpuint (g->transforms[t].type, ==, w->transforms[t].type);
          g_assert_cmpuint (g->transforms[t].id, ==, w->transforms[t].id);
          g_assert_cmpuint (g->transforms[t].key_length, ==, w->transforms[t].key_length);
        }
    }
}

static void
test_sa (void)
{
  IkeProposal props[3] = {
    { .number = 1, .protocol = IKE_PROTO_IKE },
    { .number = 2, .protocol = IKE_PROTO_ESP, .spi_len = 4, .spi = { 0xc0, 1, 2, 3 } },
    { .number = 3, .protocol = IKE_PROTO_IKE, .spi_len = 8, .spi = { 1, 2, 3, 4, 5, 6, 7, 8 } },
  };
  IkePayload p = { .type = IKE_PAYLOAD_SA, .u.sa = { 3, props } };
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (IkeInner) inner = NULL;

  add_transform (&props[0], IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
  add_transform (&props[0], IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0);
  add_transform (&props[0], IKE_TRANSFORM_KE, IKE_KE_CURVE25519, 0);
  add_transform (&props[1], IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 128);
  add_transform (&props[1], IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
  add_transform (&props[1], IKE_TRANSFORM_ESN, IKE_ESN_NO, 0);
  add_transform (&props[2], IKE_TRANSFORM_ENCR, IKE_ENCR_CHACHA20_POLY1305, 0);
  msg = msg_roundtrip (&p);
  assert_proposals (&ike_msg_find (msg, IKE_PAYLOAD_SA)->u.sa, props, 3);
  inner = inner_roundtrip (&p);
  assert_proposals (&only (inner)->u.sa, props, 3);
}

/* The caps are limits, not truncation points: the most we accept round-trips. */
static void
test_sa_largest (void)
{
  g_autofree IkeProposal *props = g_new0 (IkeProposal, IKE_MAX_PROPOSALS);
  IkePayload p = { .type = IKE_PAYLOAD_SA, .u.sa = { IKE_MAX_PROPOSALS, props } };
  g_autoptr (IkeMsg) msg = NULL;

  for (guint i = 0; i < IKE_MAX_PROPOSALS; i++)
    {
      props[i].number = i + 1;
      props[i].protocol = IKE_PROTO_ESP;
      props[i].spi_len = IKE_MAX_SPI_LEN;
      for (guint t = 0; t < IKE_MAX_TRANSFORMS; t++)
        add_transform (&props[i], 1 + t % 5, t, t % 2 ? 128 : 0);
    }
  msg = msg_roundtrip (&p);
  assert_proposals (&ike_msg_find (msg, IKE_PAYLOAD_SA)->u.sa, props, IKE_MAX_PROPOSALS);
}

/* ---- KE, Nonce, Vendor ID ---- */

static void
test_ke (void)
{
  static const gsize sizes[] = { 32, 64, 256, 512 };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_KE, .u.ke = { IKE_KE_MODP2048 + i, pat (i, sizes[i]) } };
      g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
      const IkePayloadKe *ke = &ike_msg_find (msg, IKE_PAYLOAD_KE)->u.ke;

      g_assert_cmpuint (ke->group, ==, IKE_KE_MODP2048 + i);
      assert_slice (ke->data, p.u.ke.data);
    }
}

static void
test_nonce (void)
{
  static const gsize sizes[] = { IKE_NONCE_MIN_LEN, 32, 64, IKE_NONCE_MAX_LEN };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_NONCE, .u.nonce = pat (i, sizes[i]) };
      g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
      g_autoptr (IkeInner) inner = inner_roundtrip (&p);

      assert_slice (ike_msg_find (msg, IKE_PAYLOAD_NONCE)->u.nonce, p.u.nonce);
      assert_slice (only (inner)->u.nonce, p.u.nonce);
    }
}

static void
test_vendor (void)
{
  IkePayload p = { .type = IKE_PAYLOAD_VENDOR, .u.vendor = pat (3, 16) };
  g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
  IkePayload empty = { .type = IKE_PAYLOAD_VENDOR };
  g_autoptr (IkeMsg) msg_empty = msg_roundtrip (&empty);

  assert_slice (ike_msg_find (msg, IKE_PAYLOAD_VENDOR)->u.vendor, p.u.vendor);
  g_assert_cmpuint (ike_msg_find (msg_empty, IKE_PAYLOAD_VENDOR)->u.vendor.len, ==, 0);
}

/* ---- Identities and authentication ---- */

static void
test_id (void)
{
  guint8 v4[4], v6[16];
  const struct
  {
    guint8 type;
    IkeSlice data;
  } ids[] = {
    { IKE_ID_IPV4_ADDR, { v4, 4 } },         { IKE_ID_IPV6_ADDR, { v6, 16 } },
    { IKE_ID_FQDN, str ("gw.example.net") }, { IKE_ID_RFC822_ADDR, str ("user@example.org") },
    { IKE_ID_DER_ASN1_DN, pat (4, 70) },     { IKE_ID_DER_ASN1_GN, pat (5, 20) },
    { IKE_ID_KEY_ID, pat (6, 20) },          { IKE_ID_NULL, { NULL, 0 } },
    { IKE_ID_NULL, str ("anonymous") },
  };

  g_assert_cmpint (inet_pton (AF_INET, "192.0.2.1", v4), ==, 1);
  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8::1", v6), ==, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    for (guint8 which = IKE_PAYLOAD_IDI; which <= IKE_PAYLOAD_IDR; which++)
      {
        IkePayload p = { .type = which, .u.id = { ids[i].type, ids[i].data } };
        g_autoptr (IkeInner) inner = inner_roundtrip (&p);

        g_assert_cmpuint (only (inner)->u.id.type, ==, ids[i].type);
        assert_slice (only (inner)->u.id.data, ids[i].data);
      }
}

static void
test_cert (void)
{
  IkePayload cert = { .type = IKE_PAYLOAD_CERT, .u.cert = { IKE_CERT_X509_SIG, pat (7, 900) } };
  IkePayload raw = { .type = IKE_PAYLOAD_CERT, .u.cert = { IKE_CERT_RAW_PUBLIC_KEY, pat (8, 91) } };
  g_autoptr (IkeInner) inner = inner_roundtrip (&cert);
  g_autoptr (IkeInner) inner_raw = inner_roundtrip (&raw);

  g_assert_cmpuint (only (inner)->u.cert.encoding, ==, IKE_CERT_X509_SIG);
  assert_slice (only (inner)->u.cert.data, cert.u.cert.data);
  g_assert_cmpuint (only (inner_raw)->u.cert.encoding, ==, IKE_CERT_RAW_PUBLIC_KEY);
}

static void
test_certreq (void)
{
  IkePayload req = { .type = IKE_PAYLOAD_CERTREQ, .u.cert = { IKE_CERT_X509_SIG, pat (9, 60) } };
  IkePayload any = { .type = IKE_PAYLOAD_CERTREQ, .u.cert = { IKE_CERT_X509_SIG } };
  g_autoptr (IkeMsg) msg = msg_roundtrip (&req);
  g_autoptr (IkeMsg) msg_any = msg_roundtrip (&any);
  g_autoptr (IkeInner) inner = inner_roundtrip (&req);

  assert_slice (ike_msg_find (msg, IKE_PAYLOAD_CERTREQ)->u.cert.data, req.u.cert.data);
  g_assert_cmpuint (ike_msg_find (msg_any, IKE_PAYLOAD_CERTREQ)->u.cert.data.len, ==, 0);
  assert_slice (only (inner)->u.cert.data, req.u.cert.data);
}

static void
test_auth (void)
{
  static const guint8 methods[] = { IKE_AUTH_RSA_SIG, IKE_AUTH_SHARED_KEY, IKE_AUTH_ECDSA_256,
                                    IKE_AUTH_NULL, IKE_AUTH_DIGITAL_SIGNATURE };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_AUTH, .u.auth = { methods[i], pat (i, 32 + i * 40) } };
      g_autoptr (IkeInner) inner = inner_roundtrip (&p);

      g_assert_cmpuint (only (inner)->u.auth.method, ==, methods[i]);
      assert_slice (only (inner)->u.auth.data, p.u.auth.data);
    }
}

/* ---- Notify ---- */

static void
assert_notify_roundtrip (const IkePayload *p)
{
  g_autoptr (IkeMsg) msg = msg_roundtrip (p);
  const IkePayloadNotify *n = ike_msg_find_notify (msg, p->u.notify.type);

  g_assert_nonnull (n);
  g_assert_cmpuint (n->protocol, ==, p->u.notify.protocol);
  assert_slice (n->spi, p->u.notify.spi);
  assert_slice (n->data, p->u.notify.data);
}

static IkePayload
notify (guint16 type, IkeSlice data)
{
  return (IkePayload){ .type = IKE_PAYLOAD_NOTIFY, .u.notify = { .type = type, .data = data } };
}

static void
test_notify (void)
{
  IkePayload rekey = notify (IKE_N_REKEY_SA, (IkeSlice){ 0 });
  const IkePayload plain[] = {
    notify (IKE_N_NAT_DETECTION_SOURCE_IP, pat (1, 20)),
    notify (IKE_N_NAT_DETECTION_DESTINATION_IP, pat (2, 20)),
    notify (IKE_N_COOKIE, pat (3, 1)),
    notify (IKE_N_COOKIE, pat (3, IKE_COOKIE_MAX_LEN)),
    notify (IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, (IkeSlice){ 0 }),
    notify (IKE_N_CHILDLESS_IKEV2_SUPPORTED, (IkeSlice){ 0 }),
    notify (IKE_N_USE_TRANSPORT_MODE, (IkeSlice){ 0 }),
    notify (IKE_N_MOBIKE_SUPPORTED, (IkeSlice){ 0 }),
    notify (IKE_N_REDIRECT_SUPPORTED, (IkeSlice){ 0 }),
    notify (IKE_N_NO_PROPOSAL_CHOSEN, (IkeSlice){ 0 }),
    notify (12345, pat (4, 33)), /* unknown error type: any data */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (plain); i++)
    assert_notify_roundtrip (&plain[i]);
  rekey.u.notify.protocol = IKE_PROTO_ESP;
  rekey.u.notify.spi = pat (5, 4);
  assert_notify_roundtrip (&rekey);
}

static void
test_notify_invalid_ke (void)
{
  g_autoptr (GBytes) data = ike_notify_data_u16 (IKE_KE_ECP384);
  IkePayload p = notify (IKE_N_INVALID_KE_PAYLOAD,
                         (IkeSlice){ g_bytes_get_data (data, NULL), g_bytes_get_size (data) });
  g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
  guint16 group = 0;

  g_assert_true (ike_notify_get_u16 (ike_msg_find_notify (msg, IKE_N_INVALID_KE_PAYLOAD), &group));
  g_assert_cmpuint (group, ==, IKE_KE_ECP384);
}

static void
test_notify_hash_algorithms (void)
{
  static const guint16 algs[]
      = { IKE_HASH_SHA2_256, IKE_HASH_SHA2_384, IKE_HASH_SHA2_512, IKE_HASH_IDENTITY, 0x8001 };
  g_autoptr (GBytes) data = ike_notify_data_hash_algorithms (algs, G_N_ELEMENTS (algs));
  IkePayload p = notify (IKE_N_SIGNATURE_HASH_ALGORITHMS,
                         (IkeSlice){ g_bytes_get_data (data, NULL), g_bytes_get_size (data) });
  g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
  const IkePayloadNotify *n = ike_msg_find_notify (msg, IKE_N_SIGNATURE_HASH_ALGORITHMS);
  guint16 got[8] = { 0 }, two[2] = { 0 };

  g_assert_cmpuint (ike_notify_get_hash_algorithms (n, got, G_N_ELEMENTS (got)), ==, 5);
  g_assert_cmpmem (got, sizeof algs, algs, sizeof algs);
  /* A short buffer gets what fits and learns how many there are. */
  g_assert_cmpuint (ike_notify_get_hash_algorithms (n, two, 2), ==, 5);
  g_assert_cmpuint (two[1], ==, IKE_HASH_SHA2_384);
}

static void
assert_redirect (guint16 type, const IkeRedirect *r)
{
  g_autoptr (GBytes) data = ike_notify_data_redirect (r);
  IkePayload p
      = notify (type, (IkeSlice){ g_bytes_get_data (data, NULL), g_bytes_get_size (data) });
  g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
  IkeRedirect got = { 0 };

  g_assert_true (ike_notify_get_redirect (ike_msg_find_notify (msg, type), &got));
  g_assert_cmpuint (got.gw_type, ==, r->gw_type);
  assert_slice (got.gw, r->gw);
  assert_slice (got.nonce, r->nonce);
}

static void
test_notify_redirect (void)
{
  guint8 v4[4] = { 192, 0, 2, 9 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
  IkeRedirect with_nonce = { IKE_GW_IDENT_IPV4, { v4, 4 }, pat (1, 32) };
  IkeRedirect v6_gw = { IKE_GW_IDENT_IPV6, { v6, 16 } };
  IkeRedirect fqdn = { IKE_GW_IDENT_FQDN, str ("gw2.example.net") };

  assert_redirect (IKE_N_REDIRECT, &with_nonce);
  assert_redirect (IKE_N_REDIRECT, &v6_gw);
  assert_redirect (IKE_N_REDIRECT, &fqdn);
  assert_redirect (IKE_N_REDIRECTED_FROM, &v6_gw);
  assert_redirect (IKE_N_REDIRECTED_FROM, &fqdn);
}

/* ---- Delete ---- */

static void
test_delete (void)
{
  const IkePayloadDelete dels[] = {
    { IKE_PROTO_IKE, 0, 0, { NULL, 0 } },
    { IKE_PROTO_ESP, 4, 1, pat (1, 4) },
    { IKE_PROTO_ESP, 4, 3, pat (2, 12) },
    { IKE_PROTO_AH, 4, 2, pat (3, 8) },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dels); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_DELETE, .u.del = dels[i] };
      g_autoptr (IkeInner) inner = inner_roundtrip (&p);
      const IkePayloadDelete *d = &only (inner)->u.del;

      g_assert_cmpuint (d->protocol, ==, dels[i].protocol);
      g_assert_cmpuint (d->spi_len, ==, dels[i].spi_len);
      g_assert_cmpuint (d->n_spis, ==, dels[i].n_spis);
      assert_slice (d->spis, dels[i].spis);
    }
}

/* ---- Traffic selectors ---- */

static IkeTs
ts (int family, guint8 proto, guint16 p0, guint16 p1, const char *a0, const char *a1)
{
  IkeTs t = { .ip_proto = proto, .start_port = p0, .end_port = p1 };

  t.type = family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  g_assert_cmpint (inet_pton (family, a0, t.start), ==, 1);
  g_assert_cmpint (inet_pton (family, a1, t.end), ==, 1);
  return t;
}

static void
assert_ts (const IkePayloadTs *got, const IkeTs *want, guint n)
{
  g_assert_cmpuint (got->n_ts, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const IkeTs *g = &got->ts[i], *w = &want[i];

      g_assert_cmpuint (g->type, ==, w->type);
      g_assert_cmpuint (g->ip_proto, ==, w->ip_proto);
      g_assert_cmpuint (g->start_port, ==, w->start_port);
      g_assert_cmpuint (g->end_port, ==, w->end_port);
      g_assert_cmpmem (g->start, 16, w->start, 16);
      g_assert_cmpmem (g->end, 16, w->end, 16);
      assert_slice (g->opaque, w->opaque);
    }
}

static void
test_ts (void)
{
  const IkeTs v4[] = { ts (AF_INET, 0, 0, 65535, "0.0.0.0", "255.255.255.255"),
                       ts (AF_INET, 6, 443, 443, "192.0.2.0", "192.0.2.255") };
  const IkeTs v6[] = { ts (AF_INET6, 17, 500, 4500, "2001:db8::", "2001:db8::ffff"),
                       ts (AF_INET6, 58, 0x8000, 0x80ff, "::", "::") };
  const IkeTs mixed[] = { v4[1],
                          v6[0],
                          ts (AF_INET, 6, 65535, 0, "10.0.0.1", "10.0.0.1"),
                          { .type = 10, .ip_proto = 0, .opaque = str ("system_u:r:t:s0") } };
  const struct
  {
    const IkeTs *ts;
    guint n;
  } cases[] = { { v4, 2 }, { v6, 2 }, { mixed, 4 } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint8 which = IKE_PAYLOAD_TSI; which <= IKE_PAYLOAD_TSR; which++)
      {
        IkePayload p = { .type = which, .u.ts = { cases[i].n, cases[i].ts } };
        g_autoptr (IkeInner) inner = inner_roundtrip (&p);

        assert_ts (&only (inner)->u.ts, cases[i].ts, cases[i].n);
      }
}

/* ---- CP ---- */

static void
test_cp (void)
{
  guint8 v4[4] = { 10, 0, 0, 5 }, v6[17] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5, [16] = 64 };
  const IkeCfgAttr request[] = { { IKE_CFG_INTERNAL_IP4_ADDRESS }, { IKE_CFG_INTERNAL_IP6_DNS } };
  const IkeCfgAttr reply[] = {
    { IKE_CFG_INTERNAL_IP4_ADDRESS, { v4, 4 } },  { IKE_CFG_INTERNAL_IP6_ADDRESS, { v6, 17 } },
    { IKE_CFG_INTERNAL_IP4_SUBNET, pat (1, 8) },  { IKE_CFG_INTERNAL_DNS_DOMAIN, str ("a.b") },
    { IKE_CFG_SUPPORTED_ATTRIBUTES, pat (2, 4) }, { 16000, pat (3, 5) },
  };
  const IkePayloadCp cps[] = { { IKE_CFG_REQUEST, 2, request },
                               { IKE_CFG_REPLY, G_N_ELEMENTS (reply), reply },
                               { IKE_CFG_ACK, 0, NULL } };

  for (gsize i = 0; i < G_N_ELEMENTS (cps); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_CP, .u.cp = cps[i] };
      g_autoptr (IkeInner) inner = inner_roundtrip (&p);
      const IkePayloadCp *cp = &only (inner)->u.cp;

      g_assert_cmpuint (cp->type, ==, cps[i].type);
      g_assert_cmpuint (cp->n_attrs, ==, cps[i].n_attrs);
      for (guint a = 0; a < cp->n_attrs; a++)
        {
          g_assert_cmpuint (cp->attrs[a].type, ==, cps[i].attrs[a].type);
          assert_slice (cp->attrs[a].value, cps[i].attrs[a].value);
        }
    }
}

/* ---- EAP ---- */

static void
test_eap (void)
{
  const IkePayloadEap eaps[] = {
    { 1, 1, 1, { NULL, 0 } },   /* Request/Identity */
    { 2, 1, 1, str ("alice") }, /* Response/Identity */
    { 1, 2, 26, pat (1, 49) },  /* Request/MSCHAPv2 */
    { 3, 3, 0, { NULL, 0 } },   /* Success */
    { 4, 4, 0, { NULL, 0 } },   /* Failure */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (eaps); i++)
    {
      IkePayload p = { .type = IKE_PAYLOAD_EAP, .u.eap = eaps[i] };
      g_autoptr (IkeInner) inner = inner_roundtrip (&p);
      const IkePayloadEap *eap = &only (inner)->u.eap;

      g_assert_cmpuint (eap->code, ==, eaps[i].code);
      g_assert_cmpuint (eap->identifier, ==, eaps[i].identifier);
      g_assert_cmpuint (eap->type, ==, eaps[i].type);
      assert_slice (eap->data, eaps[i].data);
    }
}

/* ---- Unknown payloads, SK, SKF ---- */

static void
test_skipped (void)
{
  IkePayload p = { .type = 99, .skipped = TRUE, .u.raw = pat (1, 10) };
  g_autoptr (IkeMsg) msg = msg_roundtrip (&p);
  g_autoptr (IkeInner) inner = inner_roundtrip (&p);

  g_assert_true (ike_msg_get_payload (msg, 0)->skipped);
  assert_slice (ike_msg_get_payload (msg, 0)->u.raw, p.u.raw);
  g_assert_true (only (inner)->skipped);
}

static void
test_sk (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&test_header);
  IkeSlice body = pat (1, 60);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (IkeMsg) msg = NULL;
  const IkePayloadSk *sk;

  g_assert_true (ike_msg_builder_add_notify (b, IKE_N_COOKIE, body.data, 8, &error));
  g_assert_true (ike_msg_builder_add_sk (b, IKE_PAYLOAD_IDI, body.data, body.len, &error));
  g_assert_no_error (error);
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, &error);
  g_assert_no_error (error);
  sk = ike_msg_get_sk (msg);
  g_assert_nonnull (sk);
  g_assert_null (ike_msg_get_skf (msg));
  g_assert_cmpuint (sk->first_inner, ==, IKE_PAYLOAD_IDI);
  g_assert_cmpuint (sk->aad_len, ==, IKE_HEADER_LEN + 4 + 4 + 8 + IKE_SK_HEADER_LEN);
  assert_slice (sk->body, body);
  again = ike_msg_to_bytes (msg, &error);
  g_assert_true (g_bytes_equal (bytes, again));
}

static void
test_skf (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&test_header);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (IkeMsg) msg = NULL;
  guint8 *body = ike_msg_builder_reserve_skf (b, IKE_PAYLOAD_NONE, 3, 5, 40, &error);
  const IkePayloadSkf *skf;

  g_assert_nonnull (body);
  memcpy (body, ike_sample_pattern (2, 40), 40);
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, &error);
  g_assert_no_error (error);
  skf = ike_msg_get_skf (msg);
  g_assert_nonnull (skf);
  g_assert_cmpuint (skf->number, ==, 3);
  g_assert_cmpuint (skf->total, ==, 5);
  g_assert_cmpuint (skf->first_inner, ==, 0);
  g_assert_cmpuint (skf->aad_len, ==, IKE_HEADER_LEN + IKE_SKF_HEADER_LEN);
  assert_slice (skf->body, pat (2, 40));
  again = ike_msg_to_bytes (msg, &error);
  g_assert_true (g_bytes_equal (bytes, again));
}

/* ---- Whole samples ---- */

static void
test_samples (void)
{
  g_autoptr (GPtrArray) messages = ike_samples_messages ();
  g_autoptr (GPtrArray) inner = ike_samples_inner ();

  g_assert_cmpuint (messages->len, >=, 12);
  for (guint i = 0; i < messages->len; i++)
    {
      IkeSample *s = g_ptr_array_index (messages, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (IkeMsg) msg = ike_msg_parse (s->bytes, NULL, &error);
      g_autoptr (GBytes) again = NULL;

      g_assert_no_error (error);
      again = ike_msg_to_bytes (msg, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (s->bytes, again));
    }
  for (guint i = 0; i < inner->len; i++)
    {
      IkeSample *s = g_ptr_array_index (inner, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (IkeInner) chain = ike_inner_parse (s->bytes, s->first, NULL, &error);
      g_autoptr (GBytes) again = NULL;
      guint8 first = 0;

      g_assert_no_error (error);
      again = ike_inner_to_bytes (chain, &first, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (first, ==, s->first);
      g_assert_true (g_bytes_equal (s->bytes, again));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ike-codec/roundtrip/header", test_header_fields);
  g_test_add_func ("/ike-codec/roundtrip/sa", test_sa);
  g_test_add_func ("/ike-codec/roundtrip/sa-largest", test_sa_largest);
  g_test_add_func ("/ike-codec/roundtrip/ke", test_ke);
  g_test_add_func ("/ike-codec/roundtrip/nonce", test_nonce);
  g_test_add_func ("/ike-codec/roundtrip/vendor", test_vendor);
  g_test_add_func ("/ike-codec/roundtrip/id", test_id);
  g_test_add_func ("/ike-codec/roundtrip/cert", test_cert);
  g_test_add_func ("/ike-codec/roundtrip/certreq", test_certreq);
  g_test_add_func ("/ike-codec/roundtrip/auth", test_auth);
  g_test_add_func ("/ike-codec/roundtrip/notify", test_notify);
  g_test_add_func ("/ike-codec/roundtrip/notify-invalid-ke", test_notify_invalid_ke);
  g_test_add_func ("/ike-codec/roundtrip/notify-hash-algorithms", test_notify_hash_algorithms);
  g_test_add_func ("/ike-codec/roundtrip/notify-redirect", test_notify_redirect);
  g_test_add_func ("/ike-codec/roundtrip/delete", test_delete);
  g_test_add_func ("/ike-codec/roundtrip/ts", test_ts);
  g_test_add_func ("/ike-codec/roundtrip/cp", test_cp);
  g_test_add_func ("/ike-codec/roundtrip/eap", test_eap);
  g_test_add_func ("/ike-codec/roundtrip/skipped", test_skipped);
  g_test_add_func ("/ike-codec/roundtrip/sk", test_sk);
  g_test_add_func ("/ike-codec/roundtrip/skf", test_skf);
  g_test_add_func ("/ike-codec/roundtrip/samples", test_samples);
  return g_test_run ();
}
