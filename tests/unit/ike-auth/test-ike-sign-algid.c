/* RFC 7427 AlgorithmIdentifiers: our encoding against the byte strings of
 * RFC 7427 Appendix A, decoding of those and of what we refuse, and NSS's
 * own verifier reading our AlgorithmIdentifier and accepting the signature
 * behind it, as a peer would. */
#include <glib.h>
#include <cryptohi.h>
#include <secasn1.h>
#include <secoid.h>
#include <string.h>

#include "ike-sign.h"
#include "test-auth-util.h"

/* ---- RFC 7427 Appendix A, as printed there ---- */

typedef struct
{
  const char *section;
  IkeSignScheme scheme;
  const char *der;
} AlgIdVector;

static const AlgIdVector rfc7427_vectors[] = {
  { "A.1.2", IKE_SIGN_RSA_PKCS1_SHA256, "300d 0609 2a86 4886 f70d 0101 0b05 00" },
  { "A.1.3", IKE_SIGN_RSA_PKCS1_SHA384, "300d 0609 2a86 4886 f70d 0101 0c05 00" },
  { "A.1.4", IKE_SIGN_RSA_PKCS1_SHA512, "300d 0609 2a86 4886 f70d 0101 0d05 00" },
  { "A.3.2", IKE_SIGN_ECDSA_SHA256, "300a 0608 2a86 48ce 3d04 0302" },
  { "A.3.3", IKE_SIGN_ECDSA_SHA384, "300a 0608 2a86 48ce 3d04 0303" },
  { "A.3.4", IKE_SIGN_ECDSA_SHA512, "300a 0608 2a86 48ce 3d04 0304" },
  { "A.4.3", IKE_SIGN_RSA_PSS_SHA256,
    "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
    "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203"
    "0201 20" },
  /* Not printed in RFC 7427: A.4.3 with SHA-384 (…4.2.2, salt 48) and
   * SHA-512 (…4.2.3, salt 64), as strongSwan and libreswan send them. */
  { "A.4.3/384", IKE_SIGN_RSA_PSS_SHA384,
    "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0202 0500"
    "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0202 0500 a203"
    "0201 30" },
  { "A.4.3/512", IKE_SIGN_RSA_PSS_SHA512,
    "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0203 0500"
    "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0203 0500 a203"
    "0201 40" },
};

/* Authentication Data: length byte, AlgorithmIdentifier, signature. */
static GBytes *
auth_data (const char *der_hex, const char *signature_hex)
{
  g_autoptr (GBytes) der = test_hex (der_hex);
  g_autoptr (GBytes) sig = test_hex (signature_hex);
  GByteArray *out = g_byte_array_new ();
  guint8 len = (guint8) g_bytes_get_size (der);

  g_byte_array_append (out, &len, 1);
  g_byte_array_append (out, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  g_byte_array_append (out, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  return g_byte_array_free_to_bytes (out);
}

static void
test_algid_encode_kat (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc7427_vectors); i++)
    {
      const AlgIdVector *v = &rfc7427_vectors[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) want = auth_data (v->der, "");
      g_autoptr (GBytes) got = ike_sign_algorithm_id_encode (v->scheme, &error);

      g_test_message ("RFC 7427 %s", v->section);
      g_assert_no_error (error);
      test_assert_bytes_equal (got, want);
    }
}

static void
test_algid_decode_kat (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc7427_vectors); i++)
    {
      const AlgIdVector *v = &rfc7427_vectors[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) data = auth_data (v->der, "deadbeef");
      IkeSignScheme scheme = IKE_SIGN_NONE;
      gsize consumed = 0;
      gsize len;
      const guint8 *p = g_bytes_get_data (data, &len);

      g_test_message ("RFC 7427 %s", v->section);
      g_assert_true (ike_sign_algorithm_id_decode (p, len, &scheme, &consumed, &error));
      g_assert_no_error (error);
      g_assert_cmpint (scheme, ==, v->scheme);
      /* The signature starts right after the AlgorithmIdentifier. */
      g_assert_cmpuint (consumed, ==, len - 4);
      g_assert_cmpmem (p + consumed, 4, "\xde\xad\xbe\xef", 4);
    }
}

typedef struct
{
  const char *what;
  const char *der; /* hex; the length byte is prefixed by the test */
  int code;
} BadAlgId;

static void
test_algid_decode_refused (void)
{
  static const BadAlgId cases[] = {
    { "A.1.1 sha1WithRSAEncryption", "300d 0609 2a86 4886 f70d 0101 0505 00",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "A.2.1 dsa-with-sha1", "3009 0607 2a86 48ce 3804 03", IKE_SIGN_ERROR_UNSUPPORTED },
    { "A.2.2 dsa-with-sha256", "300b 0609 6086 4801 6503 0403 02", IKE_SIGN_ERROR_UNSUPPORTED },
    { "A.3.1 ecdsa-with-sha1", "3009 0607 2a86 48ce 3d04 01", IKE_SIGN_ERROR_UNSUPPORTED },
    { "A.4.1 RSASSA-PSS, empty parameters", "300d 0609 2a86 4886 f70d 0101 0a30 00",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "A.4.2 RSASSA-PSS, explicit SHA-1 defaults",
      "303e 0609 2a86 4886 f70d 0101 0a30 31a0 0b30 0906 052b 0e03 021a 0500 a118 3016"
      "0609 2a86 4886 f70d 0101 0830 0906 052b 0e03 021a 0500 a203 0201 14a3 0302 0101",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "PSS SHA-256, salt 20",
      "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
      "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203"
      "0201 14",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "PSS SHA-256 with MGF1-SHA-384",
      "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
      "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0202 0500 a203"
      "0201 20",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "PSS SHA-256, salt 32, trailer 2",
      "3046 0609 2a86 4886 f70d 0101 0a30 39a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
      "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203"
      "0201 20a3 0302 0102",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "PSS SHA-256, no MGF (defaults to MGF1-SHA-1)",
      "3023 0609 2a86 4886 f70d 0101 0a30 16a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
      "a203 0201 20",
      IKE_SIGN_ERROR_UNSUPPORTED },
    { "ecdsa-with-SHA256 with a parameter", "300d 0608 2a86 48ce 3d04 0302 0201 00",
      IKE_SIGN_ERROR_INVALID },
    { "unknown OID 1.2.3.4", "3005 0603 2a03 04", IKE_SIGN_ERROR_UNSUPPORTED },
    { "not a SEQUENCE", "310a 0608 2a86 48ce 3d04 0302", IKE_SIGN_ERROR_INVALID },
    { "SEQUENCE shorter than announced", "300b 0608 2a86 48ce 3d04 0302", IKE_SIGN_ERROR_INVALID },
    { "bytes after the SEQUENCE", "300a 0608 2a86 48ce 3d04 0302 00", IKE_SIGN_ERROR_INVALID },
    { "non-minimal length", "3081 0a06 082a 8648 ce3d 0403 02", IKE_SIGN_ERROR_INVALID },
    { "OID length overruns", "300a 0609 2a86 48ce 3d04 0302", IKE_SIGN_ERROR_INVALID },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) data = auth_data (cases[i].der, "00");
      IkeSignScheme scheme = IKE_SIGN_NONE;
      gsize consumed = 99;
      gsize len;
      const guint8 *p = g_bytes_get_data (data, &len);

      g_test_message ("%s", cases[i].what);
      g_assert_false (ike_sign_algorithm_id_decode (p, len, &scheme, &consumed, &error));
      g_assert_error (error, IKE_SIGN_ERROR, cases[i].code);
      g_assert_cmpuint (consumed, ==, 99);
    }
}

static void
test_algid_decode_lengths (void)
{
  /* ecdsa-with-SHA256 (A.3.2) behind wrong length bytes. */
  static const guint8 too_long[]
      = { 13, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
  static const guint8 zero[] = { 0 };
  g_autoptr (GError) error = NULL;
  IkeSignScheme scheme;
  gsize consumed;

  g_assert_false (
      ike_sign_algorithm_id_decode (too_long, sizeof too_long, &scheme, &consumed, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ike_sign_algorithm_id_decode (zero, sizeof zero, &scheme, &consumed, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ike_sign_algorithm_id_decode (zero, 0, &scheme, &consumed, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
}

/* RFC 4055 §2.1: hash parameters may be absent instead of NULL. */
static void
test_algid_decode_pss_absent_null (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data
      = auth_data ("303d 0609 2a86 4886 f70d 0101 0a30 30a0 0d30 0b06 0960 8648 0165 0304"
                   "0202 a11a 3018 0609 2a86 4886 f70d 0101 0830 0b06 0960 8648 0165 0304"
                   "0202 a203 0201 30",
                   "");
  IkeSignScheme scheme = IKE_SIGN_NONE;
  gsize consumed, len;
  const guint8 *p = g_bytes_get_data (data, &len);

  g_assert_true (ike_sign_algorithm_id_decode (p, len, &scheme, &consumed, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scheme, ==, IKE_SIGN_RSA_PSS_SHA384);
  g_assert_cmpuint (consumed, ==, len);
}

/* What a peer does with method 14: decode our AlgorithmIdentifier and
 * verify the signature behind it.  NSS reads the RSASSA-PSS parameters
 * itself, so this also checks that we sign with the salt and MGF we
 * announce. */
static void
check_nss_verifies (TestKeyIndex key_index, IkeSignScheme scheme)
{
  static const char msg[] = "RealMessage1 | NonceRData | MACedIDForI";
  TestKey *key = test_key (key_index);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) prefix = ike_sign_algorithm_id_encode (scheme, &error);
  g_autoptr (GBytes) sig = ike_sign_data (key->priv, scheme, IKE_SIGN_ENCODING_DER,
                                          (const guint8 *) msg, strlen (msg), &error);
  const guint8 *p = g_bytes_get_data (prefix, NULL);
  SECItem der = { siBuffer, (unsigned char *) p + 1, p[0] };
  SECItem sig_item = { siBuffer, (unsigned char *) g_bytes_get_data (sig, NULL),
                       (unsigned int) g_bytes_get_size (sig) };
  PLArenaPool *arena = PORT_NewArena (DER_DEFAULT_CHUNKSIZE);
  SECAlgorithmID algid;
  SECStatus rv;

  g_test_message ("%s %s", key->name, ike_sign_scheme_to_string (scheme));
  g_assert_no_error (error);
  memset (&algid, 0, sizeof algid);
  g_assert_cmpint (
      SEC_QuickDERDecodeItem (arena, &algid, SEC_ASN1_GET (SECOID_AlgorithmIDTemplate), &der), ==,
      SECSuccess);
  rv = VFY_VerifyDataWithAlgorithmID ((const unsigned char *) msg, strlen (msg), key->pub,
                                      &sig_item, &algid, NULL, NULL);
  g_assert_cmpint (rv, ==, SECSuccess);
  /* And not for another message. */
  rv = VFY_VerifyDataWithAlgorithmID ((const unsigned char *) msg, strlen (msg) - 1, key->pub,
                                      &sig_item, &algid, NULL, NULL);
  g_assert_cmpint (rv, !=, SECSuccess);
  PORT_FreeArena (arena, PR_FALSE);
}

static void
test_algid_nss_verifies (void)
{
  static const struct
  {
    TestKeyIndex key;
    IkeSignScheme scheme;
  } cases[] = {
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PKCS1_SHA256 },
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PKCS1_SHA384 },
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PKCS1_SHA512 },
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PSS_SHA256 },
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PSS_SHA384 },
    { TEST_KEY_RSA2048, IKE_SIGN_RSA_PSS_SHA512 },
    { TEST_KEY_P256, IKE_SIGN_ECDSA_SHA256 },
    { TEST_KEY_P384, IKE_SIGN_ECDSA_SHA384 },
    { TEST_KEY_P521, IKE_SIGN_ECDSA_SHA512 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_nss_verifies (cases[i].key, cases[i].scheme);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_nss_init ();
  g_test_add_func ("/ike-sign/algid/encode-rfc7427", test_algid_encode_kat);
  g_test_add_func ("/ike-sign/algid/decode-rfc7427", test_algid_decode_kat);
  g_test_add_func ("/ike-sign/algid/decode-refused", test_algid_decode_refused);
  g_test_add_func ("/ike-sign/algid/decode-lengths", test_algid_decode_lengths);
  g_test_add_func ("/ike-sign/algid/decode-pss-absent-null", test_algid_decode_pss_absent_null);
  g_test_add_func ("/ike-sign/algid/nss-verifies", test_algid_nss_verifies);
  status = g_test_run ();
  test_nss_shutdown ();
  return status;
}
