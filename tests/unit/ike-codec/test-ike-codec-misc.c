/* NAT-T framing, names for logs, message descriptions, the structured
 * notify accessors on bad data, and robustness: every truncation and many
 * single-byte changes of every sample either fail cleanly or re-serialize
 * to something that parses the same. */
#include <string.h>

#include "ike-samples.h"

/* ---- NAT-T ---- */

static void
test_natt_classify (void)
{
  static const guint8 keepalive[] = { 0xff };
  static const guint8 ike[] = { 0, 0, 0, 0, 1, 2, 3 };
  static const guint8 esp[] = { 0, 0, 1, 0, 0, 0, 0, 1, 0xaa };
  static const guint8 tiny[] = { 1, 2, 3 };
  static const guint8 zero3[] = { 0, 0, 0 };
  gsize offset = 99;

  g_assert_cmpint (ike_natt_classify (keepalive, 1, &offset), ==, IKE_NATT_KEEPALIVE);
  g_assert_cmpint (ike_natt_classify (ike, sizeof ike, &offset), ==, IKE_NATT_IKE);
  g_assert_cmpuint (offset, ==, IKE_NON_ESP_MARKER_LEN);
  g_assert_cmpint (ike_natt_classify (esp, sizeof esp, &offset), ==, IKE_NATT_ESP);
  g_assert_cmpint (ike_natt_classify (tiny, sizeof tiny, &offset), ==, IKE_NATT_INVALID);
  g_assert_cmpint (ike_natt_classify (zero3, sizeof zero3, &offset), ==, IKE_NATT_INVALID);
  g_assert_cmpint (ike_natt_classify (NULL, 0, &offset), ==, IKE_NATT_INVALID);
  g_assert_cmpint (ike_natt_classify (esp, 7, &offset), ==, IKE_NATT_INVALID);
}

static void
test_natt_marker (void)
{
  g_autoptr (GPtrArray) samples = ike_samples_messages ();
  IkeSample *s = g_ptr_array_index (samples, 0);
  g_autoptr (GBytes) framed = ike_natt_add_marker (s->bytes);
  gsize len = 0, offset = 0;
  const guint8 *d = g_bytes_get_data (framed, &len);
  g_autoptr (GBytes) inner = NULL;
  g_autoptr (IkeMsg) msg = NULL;

  g_assert_cmpuint (len, ==, g_bytes_get_size (s->bytes) + 4);
  g_assert_cmpmem (d, 4, "\0\0\0\0", 4);
  g_assert_cmpint (ike_natt_classify (d, len, &offset), ==, IKE_NATT_IKE);
  inner = g_bytes_new_from_bytes (framed, offset, len - offset);
  g_assert_true (g_bytes_equal (inner, s->bytes));
  msg = ike_msg_parse (inner, NULL, NULL);
  g_assert_nonnull (msg);
}

/* ---- Names ---- */

static void
test_names (void)
{
  static const guint notifies[] = {
    IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD,
    IKE_N_INVALID_SYNTAX,
    IKE_N_INVALID_KE_PAYLOAD,
    IKE_N_NAT_DETECTION_SOURCE_IP,
    IKE_N_COOKIE,
    IKE_N_REDIRECTED_FROM,
    IKE_N_IKEV2_FRAGMENTATION_SUPPORTED,
    IKE_N_SIGNATURE_HASH_ALGORITHMS,
    IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED,
  };

  g_assert_cmpstr (ike_payload_type_name (IKE_PAYLOAD_NOTIFY), ==, "NOTIFY");
  g_assert_cmpstr (ike_payload_short_name (IKE_PAYLOAD_NONCE), ==, "No");
  g_assert_cmpstr (ike_payload_short_name (IKE_PAYLOAD_SKF), ==, "SKF");
  g_assert_null (ike_payload_type_name (99));
  g_assert_cmpstr (ike_exchange_name (IKE_EXCHANGE_CREATE_CHILD_SA), ==, "CREATE_CHILD_SA");
  g_assert_null (ike_exchange_name (1));
  for (gsize i = 0; i < G_N_ELEMENTS (notifies); i++)
    g_assert_nonnull (ike_notify_name (notifies[i]));
  g_assert_cmpstr (ike_notify_name (IKE_N_COOKIE), ==, "COOKIE");
  g_assert_null (ike_notify_name (40000));
  g_assert_cmpstr (ike_transform_id_name (IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16), ==,
                   "AES_GCM_16");
  g_assert_cmpstr (ike_transform_id_name (IKE_TRANSFORM_KE, IKE_KE_CURVE25519), ==, "CURVE25519");
  g_assert_cmpstr (ike_transform_id_name (IKE_TRANSFORM_ESN, 1), ==, "ESN");
  g_assert_null (ike_transform_id_name (9, 1));
  g_assert_cmpstr (ike_transform_type_name (IKE_TRANSFORM_INTEG), ==, "INTEG");
  g_assert_cmpstr (ike_protocol_name (IKE_PROTO_ESP), ==, "ESP");
  g_assert_cmpstr (ike_id_type_name (IKE_ID_NULL), ==, "ID_NULL");
  g_assert_cmpstr (ike_auth_method_name (IKE_AUTH_NULL), ==, "NULL_AUTH");
  g_assert_cmpstr (ike_cert_encoding_name (IKE_CERT_X509_SIG), ==, "X509_SIGNATURE");
  g_assert_cmpstr (ike_ts_type_name (IKE_TS_IPV6_ADDR_RANGE), ==, "TS_IPV6_ADDR_RANGE");
  g_assert_cmpstr (ike_cfg_type_name (IKE_CFG_REPLY), ==, "CFG_REPLY");
  g_assert_cmpstr (ike_cfg_attr_name (IKE_CFG_INTERNAL_DNS_DOMAIN), ==, "INTERNAL_DNS_DOMAIN");
  g_assert_cmpstr (ike_msg_error_name (IKE_MSG_ERROR_CRITICAL), ==, "unsupported-critical-payload");
}

static void
test_describe (void)
{
  g_autoptr (GPtrArray) samples = ike_samples_messages ();
  static const struct
  {
    const char *sample, *text;
  } cases[] = {
    { "sa-init-request",
      "IKE_SA_INIT request #0 [ SA KE No N(NAT_DETECTION_SOURCE_IP) "
      "N(NAT_DETECTION_DESTINATION_IP) N(IKEV2_FRAGMENTATION_SUPPORTED) "
      "N(SIGNATURE_HASH_ALGORITHMS) N(REDIRECT_SUPPORTED) N(CHILDLESS_IKEV2_SUPPORTED) V ]" },
    { "sa-init-cookie", "IKE_SA_INIT response #0 [ N(COOKIE) ]" },
    { "ike-auth-request", "IKE_AUTH request #1 [ SK ]" },
    { "ike-auth-fragment-2", "IKE_AUTH request #1 [ SKF(2/2) ]" },
    { "informational-delete", "INFORMATIONAL request #3 [ SK ]" },
  };
  guint found = 0;

  for (guint i = 0; i < samples->len; i++)
    {
      IkeSample *s = g_ptr_array_index (samples, i);
      g_autoptr (IkeMsg) msg = ike_msg_parse (s->bytes, NULL, NULL);
      g_autofree char *text = ike_msg_describe (msg);

      for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
        if (g_str_equal (cases[c].sample, s->name))
          {
            g_assert_cmpstr (text, ==, cases[c].text);
            found++;
          }
    }
  g_assert_cmpuint (found, ==, G_N_ELEMENTS (cases));
}

/* ---- Notify accessors on data the caller made ---- */

static void
test_notify_accessors_refuse (void)
{
  static const guint8 odd[] = { 1, 5, 192, 0, 2, 1 };
  static const guint8 overrun[] = { 3, 10, 'a' };
  IkePayloadNotify n = { .type = IKE_N_REDIRECT, .data = { odd, sizeof odd } };
  IkeRedirect r;
  guint16 v;

  g_assert_false (ike_notify_get_redirect (&n, &r)); /* IPv4 of 5 bytes */
  n.data = (IkeSlice){ overrun, sizeof overrun };
  g_assert_false (ike_notify_get_redirect (&n, &r));
  n.data = (IkeSlice){ overrun, 1 };
  g_assert_false (ike_notify_get_redirect (&n, &r));
  g_assert_false (ike_notify_get_u16 (&n, &v));
  n.data = (IkeSlice){ overrun, 2 };
  g_assert_true (ike_notify_get_u16 (&n, &v));
  g_assert_cmphex (v, ==, 0x030a);
}

/* ---- Robustness ---- */

/* Whatever parses must build, and what it builds must parse to the same
 * bytes again: the fuzz targets' property, on a fixed set of mutations. */
static guint
check_mutant (const guint8 *data, gsize len)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (IkeMsg) msg = ike_msg_parse (bytes, NULL, NULL);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (IkeMsg) reparsed = NULL;
  g_autoptr (GBytes) twice = NULL;
  g_autoptr (GError) error = NULL;

  if (msg == NULL)
    return 0;
  again = ike_msg_to_bytes (msg, &error);
  g_assert_no_error (error);
  reparsed = ike_msg_parse (again, NULL, &error);
  g_assert_no_error (error);
  twice = ike_msg_to_bytes (reparsed, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (again, twice));
  return 1;
}

static void
test_mutations (void)
{
  g_autoptr (GPtrArray) samples = ike_samples_messages ();
  static const guint8 values[] = { 0x00, 0x01, 0x03, 0x04, 0x7f, 0x80, 0xff };
  guint parsed = 0, tried = 0;

  for (guint i = 0; i < samples->len; i++)
    {
      IkeSample *s = g_ptr_array_index (samples, i);
      gsize len = g_bytes_get_size (s->bytes);
      g_autofree guint8 *d = g_memdup2 (g_bytes_get_data (s->bytes, NULL), len);

      for (gsize cut = 0; cut < len; cut++, tried++)
        parsed += check_mutant (d, cut);
      for (gsize pos = 0; pos < len; pos++)
        {
          guint8 orig = d[pos];

          for (gsize v = 0; v < G_N_ELEMENTS (values); v++, tried++)
            {
              d[pos] = values[v];
              parsed += check_mutant (d, len);
            }
          d[pos] = orig;
        }
    }
  g_test_message ("%u of %u mutants parsed", parsed, tried);
  /* Both outcomes must occur, or the test proves nothing. */
  g_assert_cmpuint (parsed, >, 0);
  g_assert_cmpuint (parsed, <, tried);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ike-codec/natt/classify", test_natt_classify);
  g_test_add_func ("/ike-codec/natt/marker", test_natt_marker);
  g_test_add_func ("/ike-codec/names", test_names);
  g_test_add_func ("/ike-codec/describe", test_describe);
  g_test_add_func ("/ike-codec/notify-accessors-refuse", test_notify_accessors_refuse);
  g_test_add_func ("/ike-codec/mutations", test_mutations);
  return g_test_run ();
}
