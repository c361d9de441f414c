/* The builders: chaining, lengths, the SK/SKF reserve step and its AAD,
 * refusing what the parser would refuse, and refusing (as a programming
 * error) an encrypted-only payload in a cleartext message. */
#include <string.h>

#include "ike-samples.h"

static const IkeHeader header = {
  .spi_i = G_GUINT64_CONSTANT (0x1020304050607080),
  .spi_r = G_GUINT64_CONSTANT (0x0102030405060708),
  .exchange = IKE_EXCHANGE_AUTH,
  .flags = IKE_FLAG_INITIATOR,
  .message_id = 1,
};

static IkePayload
nonce (gsize len)
{
  return (IkePayload){ .type = IKE_PAYLOAD_NONCE, .u.nonce = { ike_sample_pattern (1, len), len } };
}

static IkePayload
vendor (gsize len)
{
  static guint8 zeros[IKE_MSG_MAX_LEN];

  return (IkePayload){ .type = IKE_PAYLOAD_VENDOR, .u.vendor = { zeros, len } };
}

static guint32
get32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void
test_chaining (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  IkePayload n = nonce (16);
  IkePayload v = vendor (4);
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *d;

  g_assert_true (ike_msg_builder_add (b, &n, NULL));
  g_assert_true (ike_msg_builder_add (b, &v, NULL));
  g_assert_true (ike_msg_builder_add_notify (b, IKE_N_INITIAL_CONTACT, NULL, 0, NULL));
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  d = g_bytes_get_data (bytes, NULL);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 28 + 20 + 8 + 8);
  g_assert_cmpuint (get32 (d + 24), ==, 28 + 20 + 8 + 8);
  g_assert_cmpuint (d[16], ==, IKE_PAYLOAD_NONCE);
  g_assert_cmpuint (d[17], ==, IKE_VERSION);
  g_assert_cmpuint (d[28], ==, IKE_PAYLOAD_VENDOR); /* nonce → V */
  g_assert_cmpuint (d[48], ==, IKE_PAYLOAD_NOTIFY); /* V → N */
  g_assert_cmpuint (d[56], ==, IKE_PAYLOAD_NONE);   /* N ends the chain */
  g_assert_cmpuint (d[56 + 3], ==, 8);
}

static void
test_empty_message (void)
{
  g_autoptr (GBytes) bytes = ike_msg_builder_free_to_bytes (ike_msg_builder_new (&header));
  const guint8 *d = g_bytes_get_data (bytes, NULL);
  g_autoptr (IkeMsg) msg = ike_msg_parse (bytes, NULL, NULL);

  g_assert_cmpuint (g_bytes_get_size (bytes), ==, IKE_HEADER_LEN);
  g_assert_cmpuint (d[16], ==, IKE_PAYLOAD_NONE);
  g_assert_nonnull (msg);
  g_assert_cmpuint (ike_msg_get_n_payloads (msg), ==, 0);
}

/* A payload the parser would refuse is refused, and leaves no trace. */
static void
test_refuses_invalid (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  g_autoptr (GError) error = NULL;
  IkePayload short_nonce = nonce (8);
  IkePayload good = nonce (16);
  IkePayload natd = { .type = IKE_PAYLOAD_NOTIFY,
                      .u.notify = { .type = IKE_N_NAT_DETECTION_SOURCE_IP,
                                    .data = { ike_sample_pattern (2, 19), 19 } } };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (IkeMsg) msg = NULL;

  g_assert_false (ike_msg_builder_add (b, &short_nonce, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX);
  g_clear_error (&error);
  g_assert_false (ike_msg_builder_add (b, &natd, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX);
  g_assert_true (ike_msg_builder_add (b, &good, NULL));
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, IKE_HEADER_LEN + 4 + 16);
  msg = ike_msg_parse (bytes, NULL, NULL);
  g_assert_nonnull (msg);
  g_assert_cmpuint (ike_msg_get_n_payloads (msg), ==, 1);
}

static void
test_refuses_invalid_inner (void)
{
  g_autoptr (IkeInnerBuilder) b = ike_inner_builder_new ();
  g_autoptr (GError) error = NULL;
  IkeTs backwards = { .type = IKE_TS_IPV4_ADDR_RANGE,
                      .start = { 10, 0, 0, 2 },
                      .end = { 10, 0, 0, 1 },
                      .end_port = 65535 };
  IkePayload ts = { .type = IKE_PAYLOAD_TSI, .u.ts = { 1, &backwards } };
  IkePayload del = { .type = IKE_PAYLOAD_DELETE,
                     .u.del = { IKE_PROTO_ESP, 4, 2, { ike_sample_pattern (3, 4), 4 } } };
  g_autofree IkeProposal *props = g_new0 (IkeProposal, 1);
  IkePayload sa = { .type = IKE_PAYLOAD_SA, .u.sa = { 1, props } };
  guint8 first = 1;
  g_autoptr (GBytes) bytes = NULL;

  g_assert_false (ike_inner_builder_add (b, &ts, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX);
  g_clear_error (&error);
  g_assert_false (ike_inner_builder_add (b, &del, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX);
  g_clear_error (&error);
  /* More transforms than the array holds must not be read past its end. */
  props->n_transforms = IKE_MAX_TRANSFORMS + 1;
  g_assert_false (ike_inner_builder_add (b, &sa, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX);
  bytes = ike_inner_builder_free_to_bytes (g_steal_pointer (&b), &first);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 0);
  g_assert_cmpuint (first, ==, IKE_PAYLOAD_NONE);
}

static void
test_too_big (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  g_autoptr (GError) error = NULL;
  IkePayload huge = vendor (G_MAXUINT16 - 3); /* payload length 65536 */
  IkePayload big = vendor (40000);
  gsize len = 0;

  g_assert_false (ike_msg_builder_add (b, &huge, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG);
  g_clear_error (&error);
  g_assert_true (ike_msg_builder_add (b, &big, &error));
  g_assert_false (ike_msg_builder_add (b, &big, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG);
  g_clear_error (&error);
  g_assert_null (ike_msg_builder_reserve_sk (b, IKE_PAYLOAD_IDI, 30000, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG);
  ike_msg_builder_peek (b, &len, NULL);
  g_assert_cmpuint (len, ==, IKE_HEADER_LEN + 4 + 40000);
}

static void
test_too_many_payloads (void)
{
  g_autoptr (IkeInnerBuilder) b = ike_inner_builder_new ();
  g_autoptr (GError) error = NULL;
  IkePayload v = vendor (0);

  for (guint i = 0; i < IKE_MSG_MAX_PAYLOADS; i++)
    g_assert_true (ike_inner_builder_add (b, &v, NULL));
  g_assert_false (ike_inner_builder_add (b, &v, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG);
}

/* The crypto code's view: the AAD is final before it seals, and is exactly
 * what the parser later reports. */
static void
test_reserve_sk (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  IkePayload v = vendor (8);
  guint8 *body;
  const guint8 *peek;
  gsize len = 0, aad_len = 0;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (IkeMsg) msg = NULL;
  const IkePayloadSk *sk;

  g_assert_true (ike_msg_builder_add (b, &v, NULL));
  body = ike_msg_builder_reserve_sk (b, IKE_PAYLOAD_IDI, 100, NULL);
  g_assert_nonnull (body);
  peek = ike_msg_builder_peek (b, &len, &aad_len);
  g_assert_cmpuint (len, ==, IKE_HEADER_LEN + 12 + 4 + 100);
  g_assert_cmpuint (aad_len, ==, IKE_HEADER_LEN + 12 + 4);
  g_assert_true (body == peek + aad_len);
  g_assert_cmpuint (get32 (peek + 24), ==, len); /* Length is final in the AAD */
  g_assert_cmpuint (peek[IKE_HEADER_LEN + 12], ==, IKE_PAYLOAD_IDI);
  memcpy (body, ike_sample_pattern (4, 100), 100);
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, NULL);
  g_assert_nonnull (msg);
  sk = ike_msg_get_sk (msg);
  g_assert_cmpuint (sk->aad_len, ==, aad_len);
  g_assert_cmpuint (sk->first_inner, ==, IKE_PAYLOAD_IDI);
  g_assert_cmpmem (sk->body.data, sk->body.len, ike_sample_pattern (4, 100), 100);
  g_assert_true (ike_msg_get_payload (msg, 1)->type == IKE_PAYLOAD_SK);
}

static void
test_reserve_skf (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  gsize len = 0, aad_len = 0;
  const guint8 *peek;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (IkeMsg) msg = NULL;

  g_assert_nonnull (ike_msg_builder_reserve_skf (b, IKE_PAYLOAD_IDR, 1, 3, 20, NULL));
  peek = ike_msg_builder_peek (b, &len, &aad_len);
  g_assert_cmpuint (aad_len, ==, IKE_HEADER_LEN + IKE_SKF_HEADER_LEN);
  g_assert_cmpuint (peek[16], ==, IKE_PAYLOAD_SKF);
  g_assert_cmpuint (peek[IKE_HEADER_LEN + 5], ==, 1); /* Fragment Number */
  g_assert_cmpuint (peek[IKE_HEADER_LEN + 7], ==, 3); /* Total Fragments */
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, NULL);
  g_assert_nonnull (msg);
  g_assert_cmpuint (ike_msg_get_skf (msg)->aad_len, ==, aad_len);
  g_assert_cmpuint (ike_msg_get_skf (msg)->first_inner, ==, IKE_PAYLOAD_IDR);
  g_assert_cmpuint (ike_msg_get_skf (msg)->body.len, ==, 20);
}

/* The inner chain's bytes and first type are what SK carries. */
static void
test_inner_into_sk (void)
{
  g_autoptr (IkeInnerBuilder) ib = ike_inner_builder_new ();
  IkePayload auth = { .type = IKE_PAYLOAD_AUTH,
                      .u.auth = { IKE_AUTH_NULL, { ike_sample_pattern (5, 32), 32 } } };
  IkePayload id = { .type = IKE_PAYLOAD_IDI, .u.id = { IKE_ID_NULL } };
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (IkeMsg) msg = NULL;
  g_autoptr (GBytes) opened = NULL;
  g_autoptr (IkeInner) inner = NULL;
  g_autofree char *text = NULL;
  guint8 first = 0;
  const IkePayloadSk *sk;

  g_assert_true (ike_inner_builder_add (ib, &id, NULL));
  g_assert_true (ike_inner_builder_add (ib, &auth, NULL));
  g_assert_true (ike_inner_builder_add_notify (ib, IKE_N_INITIAL_CONTACT, NULL, 0, NULL));
  plain = ike_inner_builder_free_to_bytes (g_steal_pointer (&ib), &first);
  g_assert_cmpuint (first, ==, IKE_PAYLOAD_IDI);
  /* "Encryption" here is the identity: the codec never looks inside. */
  g_assert_true (ike_msg_builder_add_sk (b, first, g_bytes_get_data (plain, NULL),
                                         g_bytes_get_size (plain), NULL));
  bytes = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  msg = ike_msg_parse (bytes, NULL, NULL);
  sk = ike_msg_get_sk (msg);
  opened = g_bytes_new (sk->body.data, sk->body.len);
  inner = ike_inner_parse (opened, sk->first_inner, NULL, NULL);
  g_assert_nonnull (inner);
  text = ike_inner_describe (inner);
  g_assert_cmpstr (text, ==, "[ IDi AUTH N(INITIAL_CONTACT) ]");
  g_assert_cmpuint (ike_inner_find (inner, IKE_PAYLOAD_AUTH)->u.auth.method, ==, IKE_AUTH_NULL);
  g_assert_nonnull (ike_inner_find_notify (inner, IKE_N_INITIAL_CONTACT));
  g_assert_null (ike_inner_find_notify (inner, IKE_N_COOKIE));
}

/* ---- Programming errors ---- */

static void
expect_critical (void (*body) (void))
{
  if (g_test_subprocess ())
    {
      body ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*");
}

static void
add_auth_to_message (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  IkePayload auth = { .type = IKE_PAYLOAD_AUTH,
                      .u.auth = { IKE_AUTH_NULL, { ike_sample_pattern (5, 32), 32 } } };

  ike_msg_builder_add (b, &auth, NULL);
}

static void
add_sk_as_payload (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  IkePayload sk = { .type = IKE_PAYLOAD_SK };

  ike_msg_builder_add (b, &sk, NULL);
}

static void
add_after_sk (void)
{
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&header);
  IkePayload n = nonce (16);

  ike_msg_builder_reserve_sk (b, 0, 16, NULL);
  ike_msg_builder_add (b, &n, NULL);
}

static void
add_sk_to_inner (void)
{
  g_autoptr (IkeInnerBuilder) b = ike_inner_builder_new ();
  IkePayload skf = { .type = IKE_PAYLOAD_SKF, .u.skf = { 0, 1, 1 } };

  ike_inner_builder_add (b, &skf, NULL);
}

static void
add_known_as_skipped (void)
{
  g_autoptr (IkeInnerBuilder) b = ike_inner_builder_new ();
  IkePayload p = { .type = IKE_PAYLOAD_AUTH, .skipped = TRUE };

  ike_inner_builder_add (b, &p, NULL);
}

static void
test_encrypted_in_clear (void)
{
  expect_critical (add_auth_to_message);
}

static void
test_sk_as_payload (void)
{
  expect_critical (add_sk_as_payload);
}

static void
test_add_after_sk (void)
{
  expect_critical (add_after_sk);
}

static void
test_sk_in_inner (void)
{
  expect_critical (add_sk_to_inner);
}

static void
test_known_as_skipped (void)
{
  expect_critical (add_known_as_skipped);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ike-codec/builder/chaining", test_chaining);
  g_test_add_func ("/ike-codec/builder/empty-message", test_empty_message);
  g_test_add_func ("/ike-codec/builder/refuses-invalid", test_refuses_invalid);
  g_test_add_func ("/ike-codec/builder/refuses-invalid-inner", test_refuses_invalid_inner);
  g_test_add_func ("/ike-codec/builder/too-big", test_too_big);
  g_test_add_func ("/ike-codec/builder/too-many-payloads", test_too_many_payloads);
  g_test_add_func ("/ike-codec/builder/reserve-sk", test_reserve_sk);
  g_test_add_func ("/ike-codec/builder/reserve-skf", test_reserve_skf);
  g_test_add_func ("/ike-codec/builder/inner-into-sk", test_inner_into_sk);
  g_test_add_func ("/ike-codec/builder/encrypted-in-clear", test_encrypted_in_clear);
  g_test_add_func ("/ike-codec/builder/sk-as-payload", test_sk_as_payload);
  g_test_add_func ("/ike-codec/builder/add-after-sk", test_add_after_sk);
  g_test_add_func ("/ike-codec/builder/sk-in-inner", test_sk_in_inner);
  g_test_add_func ("/ike-codec/builder/known-as-skipped", test_known_as_skipped);
  return g_test_run ();
}
