/* Sample messages built the way the engine will build them.  Contents are
 * deterministic patterns: the codec does not look at them, tshark only
 * decodes them, and the fuzz seeds stay the same from run to run. */
#include <arpa/inet.h>
#include <string.h>

#include "ike-samples.h"

#define PATTERN_MAX 4096
#define SPI_I G_GUINT64_CONSTANT (0x0102030405060708)
#define SPI_R G_GUINT64_CONSTANT (0x1112131415161718)
#define GCM_IV 8
#define GCM_ICV 16

/* A self-signed P-256 certificate for CN=gw.example.net, O=Example
 * (openssl req -x509, made for these samples): tshark decodes CERT and
 * DER_ASN1_DN identities as DER, so they must be real DER. */
static const guint8 sample_cert[] = {
  0x30, 0x82, 0x01, 0xac, 0x30, 0x82, 0x01, 0x51, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x63,
  0xc5, 0xba, 0x66, 0x02, 0xa5, 0x46, 0x02, 0xa2, 0xe3, 0x02, 0x60, 0x04, 0x0d, 0xa2, 0x3d, 0x7b,
  0x37, 0x6d, 0xfd, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
  0x2b, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x67, 0x77, 0x2e, 0x65,
  0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03,
  0x55, 0x04, 0x0a, 0x0c, 0x07, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x1e, 0x17, 0x0d,
  0x32, 0x36, 0x31, 0x31, 0x32, 0x32, 0x31, 0x36, 0x32, 0x32, 0x35, 0x35, 0x5a, 0x17, 0x0d, 0x33,
  0x36, 0x31, 0x31, 0x31, 0x39, 0x31, 0x36, 0x32, 0x32, 0x35, 0x35, 0x5a, 0x30, 0x2b, 0x31, 0x17,
  0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x67, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d,
  0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a,
  0x0c, 0x07, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00, 0x04, 0x3f, 0x9c, 0xcb, 0xfb, 0xdb, 0x65, 0xfa, 0xbc, 0x0d, 0x66, 0x62, 0x81,
  0xfe, 0x09, 0x37, 0xc5, 0x9f, 0x0e, 0xe4, 0x04, 0xff, 0xc5, 0x3a, 0x64, 0x35, 0xa5, 0xb7, 0x74,
  0x76, 0xfe, 0x63, 0x70, 0x8c, 0x02, 0x69, 0x7b, 0x56, 0x75, 0xbd, 0x45, 0x80, 0x5d, 0x2c, 0x10,
  0xab, 0xa1, 0x4c, 0xb7, 0xd5, 0x65, 0x2d, 0x38, 0x20, 0xf3, 0xb4, 0x4f, 0x27, 0x03, 0xf2, 0x87,
  0x23, 0xe0, 0xd1, 0xc4, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04,
  0x16, 0x04, 0x14, 0xc6, 0x9b, 0xf4, 0x02, 0x71, 0x8e, 0x9d, 0x22, 0xec, 0x02, 0x1d, 0x09, 0xa2,
  0xab, 0x47, 0xf2, 0x2a, 0x10, 0x6b, 0xa1, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18,
  0x30, 0x16, 0x80, 0x14, 0xc6, 0x9b, 0xf4, 0x02, 0x71, 0x8e, 0x9d, 0x22, 0xec, 0x02, 0x1d, 0x09,
  0xa2, 0xab, 0x47, 0xf2, 0x2a, 0x10, 0x6b, 0xa1, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
  0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
  0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x49, 0x00, 0x30, 0x46, 0x02, 0x21, 0x00, 0x86, 0x11, 0xd4,
  0x92, 0xaa, 0xfd, 0xb9, 0x60, 0xc5, 0xa2, 0x49, 0x65, 0x85, 0x59, 0x45, 0xef, 0x14, 0xb1, 0x15,
  0x27, 0xd8, 0xf6, 0x2a, 0x26, 0xc4, 0xf2, 0x9b, 0x6c, 0x3c, 0x2e, 0x27, 0xd8, 0x02, 0x21, 0x00,
  0xd8, 0x77, 0x6f, 0xe8, 0x9e, 0x8f, 0x38, 0x77, 0x41, 0xcb, 0xf0, 0xc4, 0x2e, 0x3b, 0xf6, 0x76,
  0x0d, 0x9d, 0x33, 0xa6, 0x3c, 0x20, 0x06, 0x17, 0xbc, 0x8a, 0x50, 0x01, 0xbe, 0xec, 0x16, 0x75,
};
#define SAMPLE_CERT_SUBJECT_AT 124
#define SAMPLE_CERT_SUBJECT_LEN 45

const guint8 *
ike_sample_pattern (guint8 seed, gsize len)
{
  static guint8 buf[PATTERN_MAX + 256 * 13];
  static gsize done = 0;

  g_assert (len <= PATTERN_MAX);
  if (g_once_init_enter (&done))
    {
      for (gsize i = 0; i < sizeof buf; i++)
        buf[i] = (i * 37 + (i >> 8) * 11 + 5) & 0xff;
      g_once_init_leave (&done, 1);
    }
  return buf + seed * 13;
}

void
ike_sample_free (IkeSample *sample)
{
  g_free (sample->name);
  g_clear_pointer (&sample->bytes, g_bytes_unref);
  g_clear_pointer (&sample->types, g_array_unref);
  g_free (sample);
}

/* ---- Payloads ---- */

static IkeSlice
pat (guint8 seed, gsize len)
{
  return (IkeSlice){ ike_sample_pattern (seed, len), len };
}

static IkeSlice
cert (void)
{
  return (IkeSlice){ sample_cert, sizeof sample_cert };
}

static IkeSlice
cert_subject (void)
{
  return (IkeSlice){ sample_cert + SAMPLE_CERT_SUBJECT_AT, SAMPLE_CERT_SUBJECT_LEN };
}

static IkeSlice
str (const char *s)
{
  return (IkeSlice){ (const guint8 *) s, strlen (s) };
}

static void
add_transform (IkeProposal *p, guint8 type, guint16 id, guint16 key_length)
{
  p->transforms[p->n_transforms++] = (IkeTransform){ type, id, key_length };
}

static IkeProposal
proposal_ike_aead (guint8 number, guint8 spi_len)
{
  IkeProposal p = { .number = number, .protocol = IKE_PROTO_IKE, .spi_len = spi_len };

  memcpy (p.spi, ike_sample_pattern (9, spi_len), spi_len);
  add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
  add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_CHACHA20_POLY1305, 0);
  add_transform (&p, IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0);
  add_transform (&p, IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
  add_transform (&p, IKE_TRANSFORM_KE, IKE_KE_CURVE25519, 0);
  add_transform (&p, IKE_TRANSFORM_KE, IKE_KE_ECP256, 0);
  return p;
}

static IkeProposal
proposal_ike_cbc (guint8 number)
{
  IkeProposal p = { .number = number, .protocol = IKE_PROTO_IKE };

  add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 128);
  add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 256);
  add_transform (&p, IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_512, 0);
  add_transform (&p, IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0);
  add_transform (&p, IKE_TRANSFORM_KE, IKE_KE_MODP3072, 0);
  return p;
}

static IkeProposal
proposal_esp (guint8 number, gboolean aead)
{
  IkeProposal p = { .number = number, .protocol = IKE_PROTO_ESP, .spi_len = 4 };

  memcpy (p.spi, ike_sample_pattern (10 + number, 4), 4);
  if (aead)
    add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
  else
    {
      add_transform (&p, IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 256);
      add_transform (&p, IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
    }
  add_transform (&p, IKE_TRANSFORM_ESN, IKE_ESN_NO, 0);
  add_transform (&p, IKE_TRANSFORM_ESN, IKE_ESN_YES, 0);
  return p;
}

static IkePayload
pl_sa (const IkeProposal *props, guint n)
{
  return (IkePayload){ .type = IKE_PAYLOAD_SA, .u.sa = { n, props } };
}

static IkePayload
pl_ke (guint16 group, gsize len)
{
  return (IkePayload){ .type = IKE_PAYLOAD_KE, .u.ke = { group, pat (group, len) } };
}

static IkePayload
pl_nonce (guint8 seed, gsize len)
{
  return (IkePayload){ .type = IKE_PAYLOAD_NONCE, .u.nonce = pat (seed, len) };
}

static IkePayload
pl_id (guint8 which, guint8 type, IkeSlice data)
{
  return (IkePayload){ .type = which, .u.id = { type, data } };
}

static IkePayload
pl_cert (guint8 which, guint8 encoding, IkeSlice data)
{
  return (IkePayload){ .type = which, .u.cert = { encoding, data } };
}

static IkePayload
pl_auth (guint8 method, gsize len)
{
  return (IkePayload){ .type = IKE_PAYLOAD_AUTH, .u.auth = { method, pat (method, len) } };
}

static IkePayload
pl_notify (guint16 type, IkeSlice data)
{
  return (IkePayload){ .type = IKE_PAYLOAD_NOTIFY, .u.notify = { .type = type, .data = data } };
}

static IkePayload
pl_ts (guint8 which, const IkeTs *ts, guint n)
{
  return (IkePayload){ .type = which, .u.ts = { n, ts } };
}

static IkePayload
pl_cp (guint8 type, const IkeCfgAttr *attrs, guint n)
{
  return (IkePayload){ .type = IKE_PAYLOAD_CP, .u.cp = { type, n, attrs } };
}

static IkePayload
pl_eap (guint8 code, guint8 type, IkeSlice data)
{
  return (IkePayload){ .type = IKE_PAYLOAD_EAP, .u.eap = { code, 7, type, data } };
}

static IkePayload
pl_delete (guint8 protocol, guint n)
{
  guint8 spi_len = protocol == IKE_PROTO_IKE ? 0 : 4;

  return (IkePayload){ .type = IKE_PAYLOAD_DELETE,
                       .u.del = { protocol, spi_len, n, pat (20, n * spi_len) } };
}

static IkeTs
ts_range (int family, guint8 proto, guint16 p0, guint16 p1, const char *a0, const char *a1)
{
  IkeTs ts = { .ip_proto = proto, .start_port = p0, .end_port = p1 };

  ts.type = family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  g_assert_cmpint (inet_pton (family, a0, ts.start), ==, 1);
  g_assert_cmpint (inet_pton (family, a1, ts.end), ==, 1);
  return ts;
}

static IkeCfgAttr
attr (guint16 type, IkeSlice value)
{
  return (IkeCfgAttr){ type, value };
}

static IkeSlice
addr (int family, const char *text, gsize extra, guint8 extra_byte)
{
  static guint8 store[32][17];
  static guint next;
  guint8 *a = store[next++ % G_N_ELEMENTS (store)];
  gsize len = family == AF_INET ? 4 : 16;

  g_assert_cmpint (inet_pton (family, text, a), ==, 1);
  if (extra)
    a[len] = extra_byte;
  return (IkeSlice){ a, len + extra };
}

/* ---- Chains ---- */

static void
msg_add (IkeMsgBuilder *b, IkePayload p)
{
  g_autoptr (GError) error = NULL;

  if (!ike_msg_builder_add (b, &p, &error))
    g_error ("sample: %s", error->message);
}

static void
inner_add (IkeInnerBuilder *b, IkePayload p)
{
  g_autoptr (GError) error = NULL;

  if (!ike_inner_builder_add (b, &p, &error))
    g_error ("sample: %s", error->message);
}

static GArray *
types_of (const IkePayload *(*get) (gconstpointer, guint), gconstpointer chain, guint n)
{
  GArray *types = g_array_new (FALSE, FALSE, 1);

  for (guint i = 0; i < n; i++)
    g_array_append_val (types, get (chain, i)->type);
  return types;
}

static IkeSample *
sample_message (GPtrArray *out, const char *name, GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsg) msg = ike_msg_parse (bytes, NULL, &error);
  IkeSample *s = g_new0 (IkeSample, 1);

  if (msg == NULL)
    g_error ("sample %s does not parse: %s", name, error->message);
  s->name = g_strdup (name);
  s->bytes = bytes;
  s->types = types_of ((gpointer) ike_msg_get_payload, msg, ike_msg_get_n_payloads (msg));
  g_ptr_array_add (out, s);
  return s;
}

static IkeSample *
sample_inner (GPtrArray *out, const char *name, IkeInnerBuilder *b)
{
  g_autoptr (GError) error = NULL;
  IkeSample *s = g_new0 (IkeSample, 1);
  g_autoptr (IkeInner) inner = NULL;

  s->name = g_strdup (name);
  s->bytes = ike_inner_builder_free_to_bytes (b, &s->first);
  inner = ike_inner_parse (s->bytes, s->first, NULL, &error);
  if (inner == NULL)
    g_error ("sample %s does not parse: %s", name, error->message);
  s->types = types_of ((gpointer) ike_inner_get_payload, inner, ike_inner_get_n_payloads (inner));
  g_ptr_array_add (out, s);
  return s;
}

static IkeMsgBuilder *
start (guint8 exchange, guint8 flags, guint32 message_id, gboolean have_spi_r)
{
  IkeHeader h = { .spi_i = SPI_I, .exchange = exchange, .flags = flags };

  h.spi_r = have_spi_r ? SPI_R : 0;
  h.message_id = message_id;
  return ike_msg_builder_new (&h);
}

/* ---- Inner chains ---- */

static void
inner_auth_request (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkeProposal props[] = { proposal_esp (1, TRUE), proposal_esp (2, FALSE) };
  IkeTs tsi[]
      = { ts_range (AF_INET, 0, 0, 65535, "0.0.0.0", "255.255.255.255"),
          ts_range (AF_INET6, 0, 0, 65535, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") };
  IkeCfgAttr attrs[] = { attr (IKE_CFG_INTERNAL_IP4_ADDRESS, (IkeSlice){ 0 }),
                         attr (IKE_CFG_INTERNAL_IP4_DNS, (IkeSlice){ 0 }),
                         attr (IKE_CFG_INTERNAL_IP6_ADDRESS, (IkeSlice){ 0 }),
                         attr (IKE_CFG_INTERNAL_IP6_DNS, (IkeSlice){ 0 }),
                         attr (IKE_CFG_INTERNAL_DNS_DOMAIN, (IkeSlice){ 0 }) };

  inner_add (b, pl_id (IKE_PAYLOAD_IDI, IKE_ID_FQDN, str ("client.example.org")));
  inner_add (b, pl_cert (IKE_PAYLOAD_CERT, IKE_CERT_X509_SIG, cert ()));
  inner_add (b, pl_cert (IKE_PAYLOAD_CERTREQ, IKE_CERT_X509_SIG, pat (31, 40)));
  inner_add (b, pl_notify (IKE_N_INITIAL_CONTACT, (IkeSlice){ 0 }));
  inner_add (b, pl_id (IKE_PAYLOAD_IDR, IKE_ID_FQDN, str ("gw.example.net")));
  inner_add (b, pl_auth (IKE_AUTH_DIGITAL_SIGNATURE, 80));
  inner_add (b, pl_cp (IKE_CFG_REQUEST, attrs, G_N_ELEMENTS (attrs)));
  inner_add (b, pl_notify (IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED, (IkeSlice){ 0 }));
  inner_add (b, pl_notify (IKE_N_MOBIKE_SUPPORTED, (IkeSlice){ 0 }));
  inner_add (b, pl_sa (props, G_N_ELEMENTS (props)));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSI, tsi, G_N_ELEMENTS (tsi)));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSR, tsi, G_N_ELEMENTS (tsi)));
  sample_inner (out, "ike-auth-request-inner", b);
}

static void
inner_auth_response (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkeProposal props[] = { proposal_esp (1, TRUE) };
  IkeTs tsi[] = { ts_range (AF_INET, 0, 0, 65535, "10.0.0.5", "10.0.0.5") };
  IkeTs tsr[] = { ts_range (AF_INET, 6, 443, 443, "10.1.0.0", "10.1.255.255"),
                  ts_range (AF_INET, 17, 53, 53, "10.1.0.53", "10.1.0.53") };
  IkeCfgAttr attrs[] = {
    attr (IKE_CFG_INTERNAL_IP4_ADDRESS, addr (AF_INET, "10.0.0.5", 0, 0)),
    attr (IKE_CFG_INTERNAL_IP4_NETMASK, addr (AF_INET, "255.255.255.0", 0, 0)),
    attr (IKE_CFG_INTERNAL_IP4_DNS, addr (AF_INET, "192.0.2.53", 0, 0)),
    attr (IKE_CFG_INTERNAL_IP6_ADDRESS, addr (AF_INET6, "2001:db8::5", 1, 64)),
    attr (IKE_CFG_INTERNAL_IP6_DNS, addr (AF_INET6, "2001:db8::53", 0, 0)),
    attr (IKE_CFG_INTERNAL_DNS_DOMAIN, str ("example.org")),
    attr (IKE_CFG_APPLICATION_VERSION, str ("ipsecd 0.1")),
  };

  inner_add (b, pl_id (IKE_PAYLOAD_IDR, IKE_ID_IPV4_ADDR, addr (AF_INET, "192.0.2.2", 0, 0)));
  inner_add (b, pl_auth (IKE_AUTH_SHARED_KEY, 32));
  inner_add (b, pl_cp (IKE_CFG_REPLY, attrs, G_N_ELEMENTS (attrs)));
  inner_add (b, pl_sa (props, 1));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSI, tsi, G_N_ELEMENTS (tsi)));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSR, tsr, G_N_ELEMENTS (tsr)));
  inner_add (b, pl_notify (IKE_N_MOBIKE_SUPPORTED, (IkeSlice){ 0 }));
  inner_add (b, pl_notify (IKE_N_ADDITIONAL_IP4_ADDRESS, addr (AF_INET, "198.51.100.7", 0, 0)));
  inner_add (b, pl_notify (IKE_N_ADDITIONAL_IP6_ADDRESS, addr (AF_INET6, "2001:db8::7", 0, 0)));
  sample_inner (out, "ike-auth-response-inner", b);
}

static void
inner_auth_null (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkeProposal props[] = { proposal_esp (1, TRUE) };
  IkeTs ts[] = { ts_range (AF_INET6, 17, 500, 4500, "2001:db8::1", "2001:db8::ffff"),
                 ts_range (AF_INET6, 6, 65535, 0, "2001:db8:1::", "2001:db8:1::") };
  IkeCfgAttr attrs[] = { attr (IKE_CFG_INTERNAL_IP4_SUBNET, pat (40, 8)),
                         attr (IKE_CFG_INTERNAL_IP6_SUBNET, pat (41, 17)),
                         attr (IKE_CFG_SUPPORTED_ATTRIBUTES, pat (42, 6)) };
  guint8 redirected[] = { IKE_GW_IDENT_IPV4, 4, 192, 0, 2, 9 };

  /* ID_NULL data is ignored by receivers; it is not empty here because
   * tshark 4.0's dissector asserts on zero-length ID data (the roundtrip
   * test covers the empty form). */
  inner_add (b, pl_id (IKE_PAYLOAD_IDI, IKE_ID_NULL, str ("anonymous")));
  inner_add (b, pl_auth (IKE_AUTH_NULL, 32));
  inner_add (b, pl_notify (IKE_N_REDIRECTED_FROM, (IkeSlice){ redirected, sizeof redirected }));
  inner_add (b, pl_notify (IKE_N_USE_TRANSPORT_MODE, (IkeSlice){ 0 }));
  inner_add (b, pl_cp (IKE_CFG_SET, attrs, G_N_ELEMENTS (attrs)));
  inner_add (b, pl_sa (props, 1));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSI, ts, 1));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSR, ts + 1, 1));
  sample_inner (out, "ike-auth-null-inner", b);
}

/* RFC 2759 / draft-kamath EAP-MSCHAPv2 Response: OpCode, MS-CHAPv2-ID,
 * MS-Length, Value-Size 49, the response, the user name. */
static IkeSlice
mschapv2_response (void)
{
  static guint8 data[4 + 1 + 49 + 5] = { 2, 7, 0, sizeof data, 49 };

  memcpy (data + 5, ike_sample_pattern (52, 49), 49);
  memcpy (data + 5 + 49, "alice", 5);
  return (IkeSlice){ data, sizeof data };
}

static void
inner_eap (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();

  inner_add (b, pl_id (IKE_PAYLOAD_IDR, IKE_ID_DER_ASN1_DN, cert_subject ()));
  inner_add (b, pl_cert (IKE_PAYLOAD_CERT, IKE_CERT_X509_SIG, cert ()));
  inner_add (b, pl_auth (IKE_AUTH_RSA_SIG, 256));
  inner_add (b, pl_eap (1, 1, (IkeSlice){ 0 })); /* Request/Identity */
  sample_inner (out, "ike-auth-eap-request-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_eap (2, 26, mschapv2_response ())); /* Response/MSCHAPv2 */
  sample_inner (out, "ike-auth-eap-response-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_eap (3, 0, (IkeSlice){ 0 })); /* Success */
  sample_inner (out, "ike-auth-eap-success-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_id (IKE_PAYLOAD_IDI, IKE_ID_RFC822_ADDR, str ("user@example.org")));
  inner_add (b, pl_id (IKE_PAYLOAD_IDR, IKE_ID_KEY_ID, pat (53, 20)));
  inner_add (b, pl_eap (4, 0, (IkeSlice){ 0 })); /* Failure */
  sample_inner (out, "ike-auth-eap-failure-inner", b);
}

static void
inner_create_child (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkeProposal esp[] = { proposal_esp (1, FALSE) };
  IkeProposal ike[] = { proposal_ike_aead (1, 8) };
  IkeTs tsi[] = { ts_range (AF_INET6, 17, 500, 4500, "2001:db8::", "2001:db8::ffff") };
  IkeTs tsr[] = { ts_range (AF_INET6, 1, 0x0800, 0x08ff, "2001:db8:2::", "2001:db8:2::") };
  IkePayload rekey = pl_notify (IKE_N_REKEY_SA, (IkeSlice){ 0 });

  rekey.u.notify.protocol = IKE_PROTO_ESP;
  rekey.u.notify.spi = pat (60, 4);
  inner_add (b, rekey);
  inner_add (b, pl_sa (esp, 1));
  inner_add (b, pl_nonce (61, 32));
  inner_add (b, pl_ke (IKE_KE_MODP2048, 256));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSI, tsi, 1));
  inner_add (b, pl_ts (IKE_PAYLOAD_TSR, tsr, 1));
  sample_inner (out, "create-child-sa-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_sa (ike, 1));
  inner_add (b, pl_nonce (62, 64));
  inner_add (b, pl_ke (IKE_KE_CURVE25519, 32));
  sample_inner (out, "create-child-ike-rekey-inner", b);
}

static void
inner_informational (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  guint8 gw[] = {
    IKE_GW_IDENT_FQDN, 14, 'g', 'w', '2', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'n', 'e', 't'
  };
  gw[1] = sizeof gw - 2;

  inner_add (b, pl_delete (IKE_PROTO_ESP, 2));
  inner_add (b, pl_delete (IKE_PROTO_AH, 1));
  sample_inner (out, "informational-delete-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_delete (IKE_PROTO_IKE, 0));
  sample_inner (out, "informational-delete-ike-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_notify (IKE_N_UPDATE_SA_ADDRESSES, (IkeSlice){ 0 }));
  inner_add (b, pl_notify (IKE_N_NAT_DETECTION_SOURCE_IP, pat (70, 20)));
  inner_add (b, pl_notify (IKE_N_NAT_DETECTION_DESTINATION_IP, pat (71, 20)));
  inner_add (b, pl_notify (IKE_N_COOKIE2, pat (72, 16)));
  inner_add (b, pl_notify (IKE_N_NO_ADDITIONAL_ADDRESSES, (IkeSlice){ 0 }));
  sample_inner (out, "informational-mobike-inner", b);

  b = ike_inner_builder_new ();
  inner_add (b, pl_notify (IKE_N_REDIRECT, (IkeSlice){ gw, sizeof gw }));
  sample_inner (out, "informational-redirect-inner", b);
}

/* Every notify type we name, with data of the shape its RFC gives. */
static void
inner_notifies (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkePayload invalid_spi = pl_notify (IKE_N_INVALID_SPI, pat (80, 4));
  static const struct
  {
    guint16 type;
    gsize len;
  } notifies[] = {
    { IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, 1 },
    { IKE_N_INVALID_IKE_SPI, 0 },
    { IKE_N_INVALID_MAJOR_VERSION, 0 },
    { IKE_N_INVALID_SYNTAX, 0 },
    { IKE_N_INVALID_MESSAGE_ID, 4 },
    { IKE_N_NO_PROPOSAL_CHOSEN, 0 },
    { IKE_N_AUTHENTICATION_FAILED, 0 },
    { IKE_N_SINGLE_PAIR_REQUIRED, 0 },
    { IKE_N_NO_ADDITIONAL_SAS, 0 },
    { IKE_N_INTERNAL_ADDRESS_FAILURE, 0 },
    { IKE_N_FAILED_CP_REQUIRED, 0 },
    { IKE_N_TS_UNACCEPTABLE, 0 },
    { IKE_N_INVALID_SELECTORS, 24 },
    { IKE_N_UNACCEPTABLE_ADDRESSES, 0 },
    { IKE_N_UNEXPECTED_NAT_DETECTED, 0 },
    { IKE_N_TEMPORARY_FAILURE, 0 },
    { IKE_N_CHILD_SA_NOT_FOUND, 0 },
    { IKE_N_SET_WINDOW_SIZE, 4 },
    { IKE_N_ADDITIONAL_TS_POSSIBLE, 0 },
    { IKE_N_IPCOMP_SUPPORTED, 3 },
    { IKE_N_HTTP_CERT_LOOKUP_SUPPORTED, 0 },
    { IKE_N_NON_FIRST_FRAGMENTS_ALSO, 0 },
    { IKE_N_AUTH_LIFETIME, 4 },
    { IKE_N_MULTIPLE_AUTH_SUPPORTED, 0 },
    { IKE_N_ANOTHER_AUTH_FOLLOWS, 0 },
    { IKE_N_EAP_ONLY_AUTHENTICATION, 0 },
    { IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED, 0 },
  };

  invalid_spi.u.notify.protocol = IKE_PROTO_ESP;
  inner_add (b, invalid_spi);
  for (gsize i = 0; i < G_N_ELEMENTS (notifies); i++)
    inner_add (b, pl_notify (notifies[i].type, pat (81 + i, notifies[i].len)));
  sample_inner (out, "informational-notifies-inner", b);
}

/* Things we must carry without understanding: an unknown selector type,
 * a Vendor ID, and an unknown non-critical payload. */
static void
inner_unknown (GPtrArray *out)
{
  IkeInnerBuilder *b = ike_inner_builder_new ();
  IkeTs label = { .type = 10, .opaque = str ("system_u:object_r:ipsec_spd_t:s0") };
  IkePayload skipped = { .type = 200, .skipped = TRUE, .u.raw = pat (90, 12) };

  inner_add (b, (IkePayload){ .type = IKE_PAYLOAD_VENDOR, .u.vendor = pat (91, 16) });
  inner_add (b, pl_ts (IKE_PAYLOAD_TSI, &label, 1));
  inner_add (b, skipped);
  inner_add (b, pl_notify (40000, pat (92, 7))); /* private-use status */
  sample_inner (out, "unknown-payloads-inner", b);
}

GPtrArray *
ike_samples_inner (void)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ike_sample_free);

  inner_auth_request (out);
  inner_auth_response (out);
  inner_auth_null (out);
  inner_eap (out);
  inner_create_child (out);
  inner_informational (out);
  inner_notifies (out);
  inner_unknown (out);
  return out;
}

/* ---- Messages ---- */

static void
add_nat_detection (IkeMsgBuilder *b)
{
  msg_add (b, pl_notify (IKE_N_NAT_DETECTION_SOURCE_IP, pat (100, IKE_NAT_DETECTION_LEN)));
  msg_add (b, pl_notify (IKE_N_NAT_DETECTION_DESTINATION_IP, pat (101, IKE_NAT_DETECTION_LEN)));
}

static void
add_capabilities (IkeMsgBuilder *b)
{
  static const guint16 hashes[]
      = { IKE_HASH_SHA2_256, IKE_HASH_SHA2_384, IKE_HASH_SHA2_512, IKE_HASH_IDENTITY };
  g_autoptr (GBytes) data = ike_notify_data_hash_algorithms (hashes, G_N_ELEMENTS (hashes));
  gsize len;
  const guint8 *d = g_bytes_get_data (data, &len);

  msg_add (b, pl_notify (IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, (IkeSlice){ 0 }));
  msg_add (b, pl_notify (IKE_N_SIGNATURE_HASH_ALGORITHMS, (IkeSlice){ d, len }));
}

static void
message_sa_init (GPtrArray *out, gboolean with_cookie)
{
  IkeMsgBuilder *b = start (IKE_EXCHANGE_SA_INIT, IKE_FLAG_INITIATOR, 0, FALSE);
  IkeProposal props[] = { proposal_ike_aead (1, 0), proposal_ike_cbc (2) };

  if (with_cookie)
    msg_add (b, pl_notify (IKE_N_COOKIE, pat (110, 32)));
  msg_add (b, pl_sa (props, G_N_ELEMENTS (props)));
  msg_add (b, pl_ke (IKE_KE_CURVE25519, 32));
  msg_add (b, pl_nonce (111, 32));
  add_nat_detection (b);
  add_capabilities (b);
  msg_add (b, pl_notify (IKE_N_REDIRECT_SUPPORTED, (IkeSlice){ 0 }));
  msg_add (b, pl_notify (IKE_N_CHILDLESS_IKEV2_SUPPORTED, (IkeSlice){ 0 }));
  msg_add (b, (IkePayload){ .type = IKE_PAYLOAD_VENDOR, .u.vendor = pat (112, 16) });
  sample_message (out, with_cookie ? "sa-init-request-cookie" : "sa-init-request",
                  ike_msg_builder_free_to_bytes (b));
}

static void
message_sa_init_responses (GPtrArray *out)
{
  IkeMsgBuilder *b = start (IKE_EXCHANGE_SA_INIT, IKE_FLAG_RESPONSE, 0, TRUE);
  IkeProposal props[] = { proposal_ike_aead (1, 0) };
  g_autoptr (GBytes) group = ike_notify_data_u16 (IKE_KE_ECP256);
  IkeRedirect redirect = { IKE_GW_IDENT_IPV6, { NULL, 16 }, pat (111, 32) };
  g_autoptr (GBytes) redirect_data = NULL;

  props[0].n_transforms = 3; /* one of each: ENCR, PRF, KE */
  props[0].transforms[1] = props[0].transforms[2];
  props[0].transforms[2] = props[0].transforms[4];
  msg_add (b, pl_sa (props, 1));
  msg_add (b, pl_ke (IKE_KE_CURVE25519, 32));
  msg_add (b, pl_nonce (120, 32));
  add_nat_detection (b);
  msg_add (b, pl_cert (IKE_PAYLOAD_CERTREQ, IKE_CERT_X509_SIG, pat (121, 40)));
  add_capabilities (b);
  sample_message (out, "sa-init-response", ike_msg_builder_free_to_bytes (b));

  b = start (IKE_EXCHANGE_SA_INIT, IKE_FLAG_RESPONSE, 0, FALSE);
  msg_add (b, pl_notify (IKE_N_COOKIE, pat (110, 32)));
  sample_message (out, "sa-init-cookie", ike_msg_builder_free_to_bytes (b));

  b = start (IKE_EXCHANGE_SA_INIT, IKE_FLAG_RESPONSE, 0, FALSE);
  msg_add (b, pl_notify (IKE_N_INVALID_KE_PAYLOAD,
                         (IkeSlice){ g_bytes_get_data (group, NULL), g_bytes_get_size (group) }));
  sample_message (out, "sa-init-invalid-ke", ike_msg_builder_free_to_bytes (b));

  redirect.gw = addr (AF_INET6, "2001:db8::2", 0, 0);
  redirect_data = ike_notify_data_redirect (&redirect);
  b = start (IKE_EXCHANGE_SA_INIT, IKE_FLAG_RESPONSE, 0, FALSE);
  msg_add (b, pl_notify (IKE_N_REDIRECT, (IkeSlice){ g_bytes_get_data (redirect_data, NULL),
                                                     g_bytes_get_size (redirect_data) }));
  sample_message (out, "sa-init-redirect", ike_msg_builder_free_to_bytes (b));
}

/* An SK as AES-GCM would make it: IV, the inner chain plus its pad length
 * octet, ICV.  The contents are a pattern: only the shape matters here. */
static void
message_sk (GPtrArray *out, const char *name, guint8 exchange, guint8 flags, guint32 id,
            const IkeSample *inner)
{
  IkeMsgBuilder *b = start (exchange, flags, id, TRUE);
  gsize body_len = GCM_IV + (inner ? g_bytes_get_size (inner->bytes) : 0) + 1 + GCM_ICV;
  g_autoptr (GError) error = NULL;

  if (!ike_msg_builder_add_sk (b, inner ? inner->first : 0, ike_sample_pattern (130, body_len),
                               body_len, &error))
    g_error ("sample: %s", error->message);
  sample_message (out, name, ike_msg_builder_free_to_bytes (b));
}

/* Test-only: an SK whose body is the inner chain itself, so that the
 * whole-message fuzz target, which also feeds SK bodies to the inner
 * parser, starts from one that parses. */
static void
message_plain_sk (GPtrArray *out, const IkeSample *inner)
{
  IkeMsgBuilder *b = start (IKE_EXCHANGE_AUTH, IKE_FLAG_INITIATOR, 1, TRUE);
  g_autoptr (GError) error = NULL;

  if (!ike_msg_builder_add_sk (b, inner->first, g_bytes_get_data (inner->bytes, NULL),
                               g_bytes_get_size (inner->bytes), &error))
    g_error ("sample: %s", error->message);
  sample_message (out, "ike-auth-plain-sk", ike_msg_builder_free_to_bytes (b));
}

static void
message_fragments (GPtrArray *out, const IkeSample *inner)
{
  for (guint16 i = 1; i <= 2; i++)
    {
      IkeMsgBuilder *b = start (IKE_EXCHANGE_AUTH, IKE_FLAG_INITIATOR, 1, TRUE);
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("ike-auth-fragment-%u", i);
      guint8 *body = ike_msg_builder_reserve_skf (b, i == 1 ? inner->first : 0, i, 2, 300, &error);

      if (body == NULL)
        g_error ("sample: %s", error->message);
      memcpy (body, ike_sample_pattern (140 + i, 300), 300);
      sample_message (out, name, ike_msg_builder_free_to_bytes (b));
    }
}

static const IkeSample *
find_sample (GPtrArray *samples, const char *name)
{
  for (guint i = 0; i < samples->len; i++)
    {
      const IkeSample *s = g_ptr_array_index (samples, i);

      if (g_str_equal (s->name, name))
        return s;
    }
  g_error ("no sample %s", name);
}

GPtrArray *
ike_samples_messages (void)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ike_sample_free);
  g_autoptr (GPtrArray) inner = ike_samples_inner ();
  const guint8 I = IKE_FLAG_INITIATOR, R = IKE_FLAG_RESPONSE;

  message_sa_init (out, FALSE);
  message_sa_init (out, TRUE);
  message_sa_init_responses (out);
  message_sk (out, "ike-auth-request", IKE_EXCHANGE_AUTH, I, 1,
              find_sample (inner, "ike-auth-request-inner"));
  message_sk (out, "ike-auth-response", IKE_EXCHANGE_AUTH, R, 1,
              find_sample (inner, "ike-auth-response-inner"));
  message_fragments (out, find_sample (inner, "ike-auth-request-inner"));
  message_sk (out, "create-child-sa-request", IKE_EXCHANGE_CREATE_CHILD_SA, I, 2,
              find_sample (inner, "create-child-sa-inner"));
  message_sk (out, "informational-delete", IKE_EXCHANGE_INFORMATIONAL, I, 3,
              find_sample (inner, "informational-delete-inner"));
  message_sk (out, "informational-liveness", IKE_EXCHANGE_INFORMATIONAL, R, 3, NULL);
  message_plain_sk (out, find_sample (inner, "ike-auth-null-inner"));
  return out;
}

GBytes *
ike_sample_clear_message (const IkeSample *inner)
{
  GByteArray *out = g_byte_array_new ();
  guint8 header[IKE_HEADER_LEN] = { 0 };
  guint32 len = IKE_HEADER_LEN + g_bytes_get_size (inner->bytes);

  for (int i = 0; i < 8; i++)
    header[i] = SPI_I >> (56 - 8 * i);
  for (int i = 0; i < 8; i++)
    header[8 + i] = SPI_R >> (56 - 8 * i);
  header[16] = inner->first;
  header[17] = IKE_VERSION;
  header[18] = IKE_EXCHANGE_AUTH;
  header[19] = IKE_FLAG_INITIATOR;
  header[23] = 1;
  header[24] = len >> 24;
  header[25] = len >> 16;
  header[26] = len >> 8;
  header[27] = len;
  g_byte_array_append (out, header, sizeof header);
  g_byte_array_append (out, g_bytes_get_data (inner->bytes, NULL), g_bytes_get_size (inner->bytes));
  return g_byte_array_free_to_bytes (out);
}
