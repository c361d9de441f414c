/* AUTH signatures: published vectors (Wycheproof RSA PKCS#1 v1.5 signing
 * and verifying, RSASSA-PSS verifying, RFC 6979 ECDSA verifying), round
 * trips with fresh NSS keys that must reject any tampering, the choice of
 * scheme, and raw public keys.  AlgorithmIdentifiers: test-ike-sign-algid.c. */
#include <glib.h>
#include <cert.h>
#include <cryptohi.h>
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <string.h>

#include "ike-sign.h"
#include "test-auth-util.h"

/* ---- published signatures ---- */

/* Wycheproof rsa_sig_gen_misc_test.json (RsassaPkcs1Generate), the SHA-256
 * group with a 1024-bit key, tcId 17 (empty message) and 19 ("Test").
 * PKCS#1 v1.5 is deterministic, so our signature must be these bytes. */
static const char wycheproof_pkcs1_key[]
    = "30820276020100300d06092a864886f70d0101010500048202603082025c02010002818100ac9048a7a4f5"
      "60af91b4fcaf62a14595cb9ca9ec12000fc845e48572113cab2890adb011a919575a40760d1f23fe92509c"
      "8a5810b6d05990b909dd0f4c6014f2b31b6abd805bace99816e2eda41fd7b95405db7c5c8f4cf6babb14f5"
      "50d5d0dd5179b54951fff6aa9686f30f478db649b7c7044cc202dccad00343468eaacfbf02030100010281"
      "81008505d47c271560aaf6cf65da6d5594a69c86f01622ea194071606fde369b65f5a751bce06052409c3a"
      "04c6a8b2be935bc0d084829dea8ea0998398fd2a0b0719ac1a1ae2d133fcc72d9df27b377b9a0109ef1a56"
      "4e92b66963356b8da48f88fcdbc20658f74b542582925ec5cd03fb5e9a527c670465f792a69c1f6c7c5e18"
      "41024100d397dcfab4919db23bb6b88c4511516f6135e1118277e496130f0cab3a75661010cc98ec8f40cd"
      "b0c1ab612c03bbe3b023d891f46185788fb114437c8a9ae71d024100d0c7805159509ddad70f35b9a76c7c"
      "2bd95a844d36b76d96138cfc7a2a55f88072e8b10ac37463caf9bf8d1014c93a001214d7ce230c8332fb58"
      "dadb05d52f8b0240762d3c4b7dac5292284dbe3701a051864e99e4117e77ede06fd698f1cd5da25a58b79c"
      "b58ab0dbf0dbca17249915486ea9269d260b8d9b2f4dec8e60b19d2075024062a4f06eff4944dc6262905a"
      "e0cd343a2f9f42058d85cb646e665de086e249e0beea4cc42e276f03374f9721f30044c445c6cd545b610d"
      "186883ca1c543c2f1302403cfcf044035c1854475e1dba480ac50d2a059f32d18e819c96a3199b1e3855a6"
      "53ec0e5577e4d7677d6e0b7a55fc418b13202ee19430228c4bf9d28af8851c9b";

static const struct
{
  int tc_id;
  const char *msg;
  const char *sig;
} wycheproof_pkcs1_tests[] = {
  { 17, "",
    "a0abd165a5ef8733ba111fa0fa092630222d809d8ae811f24f8bead4968b7533af31019663713ba134e7dd"
    "345c38e7166a037025eb34adcd6891c9ec941d2e3eb1e4bded1d269272b602cb9b53568b992ddb5103914e"
    "6424c75505701a37996c8318b0b6f8640cb6b6e770ac44314b866a7c683a6903f7bba07b6f197ec554fc" },
  { 19, "54657374",
    "8883676becdc27878ccdff53dda011e5e2f886e31e1e88d520bb161cd63aa001fded9f0656109c1507bd1b"
    "a5d3bb3e725029a236b4c3c0420a1fcfffe348c5277d6aa51bf75d9af26fdc15fc49d637b078a8b0478b5b"
    "0a9c428756d260068e5e622f193b9f9a2c1d979e3322d7f3edc32053541c6efa2485e42e99a804f94388" },
};

static SECKEYPrivateKey *
import_pkcs8 (const char *pkcs8_hex)
{
  g_autoptr (GBytes) der = test_hex (pkcs8_hex);
  SECItem item = { siBuffer, (unsigned char *) g_bytes_get_data (der, NULL),
                   (unsigned int) g_bytes_get_size (der) };
  PK11SlotInfo *slot = PK11_GetInternalSlot ();
  SECKEYPrivateKey *key = NULL;
  SECStatus rv = PK11_ImportDERPrivateKeyInfoAndReturnKey (slot, &item, NULL, NULL, PR_FALSE,
                                                           PR_TRUE, KU_ALL, &key, NULL);

  PK11_FreeSlot (slot);
  g_assert_cmpint (rv, ==, SECSuccess);
  g_assert_nonnull (key);
  return key;
}

static void
test_pkcs1_sign_kat (void)
{
  g_autoptr (SECKEYPrivateKey) key = import_pkcs8 (wycheproof_pkcs1_key);

  for (gsize i = 0; i < G_N_ELEMENTS (wycheproof_pkcs1_tests); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) msg = test_hex (wycheproof_pkcs1_tests[i].msg);
      g_autoptr (GBytes) want = test_hex (wycheproof_pkcs1_tests[i].sig);
      g_autoptr (GBytes) got = NULL;

      g_test_message ("Wycheproof rsa_sig_gen_misc tcId %d", wycheproof_pkcs1_tests[i].tc_id);
      got = ike_sign_data (key, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER,
                           g_bytes_get_data (msg, NULL), g_bytes_get_size (msg), &error);
      g_assert_no_error (error);
      test_assert_bytes_equal (got, want);
    }
}

/* Wycheproof's 2048-bit verification key, shared by
 * rsa_signature_2048_sha256_test.json and rsa_pss_2048_sha256_mgf1_32_test.json. */
static const char wycheproof_rsa2048_spki[]
    = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100a2b451a07d0aa5f96e45"
      "5671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903"
      "b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e"
      "254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658"
      "594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ad"
      "a0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d"
      "12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d50203010001";
/* rsa_pss_2048_sha256_mgf1_32_test.json, tcId 3 ("Test"). */
static const char wycheproof_pss_sig[]
    = "401eb03cdb47ca88033e3030f6bdecbac8f5c8fc1dd6a13d23d379ed9a2b309891d13d74fea9d21d159b9e"
      "6d8f37efa2489962e24555f56dd434ff1d31ce4f9f5abd3f22cbea8b691d6a11e44efb83e2bca155e6a164"
      "325e0fde2a8865afd5c9f51161a9d615f62af7ec2e31b3e5ab649c164490d31d88cfae35b84aea7925690f"
      "929a144b6d2f48e8fb894a52deecd1b9a6496990c4ecf1588699a42cacd10c53af350514e4291ea9a058e7"
      "7f101e32c1c0cefa61d945f7bc931f8bd19e7ba3169358a60e5a8b0123bc3199b9fdcafe8e519c41ba6754"
      "91a27b85e44ef2d77277c10fe107293c8290186913bc9a99b640d8da041b64f31eab1d35920985f4a5";

static SECKEYPublicKey *
import_spki (const char *spki_hex)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) der = test_hex (spki_hex);
  SECKEYPublicKey *key
      = ike_sign_public_key_import (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

static void
test_pss_kat (void)
{
  g_autoptr (SECKEYPublicKey) key = import_spki (wycheproof_rsa2048_spki);
  g_autoptr (GBytes) sig = test_hex (wycheproof_pss_sig);
  g_autoptr (GBytes) bad = test_flip_bit (sig, 100);
  g_autoptr (GError) error = NULL;

  g_assert_true (
      test_verify_str (key, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER, "Test", sig, &error));
  g_assert_no_error (error);
  g_assert_false (
      test_verify_str (key, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER, "Tesu", sig, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (key, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER, "Test", bad, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  /* Salt 32 with SHA-384 or as PKCS#1 v1.5: the wrong scheme. */
  g_assert_false (
      test_verify_str (key, IKE_SIGN_RSA_PSS_SHA384, IKE_SIGN_ENCODING_DER, "Test", sig, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (key, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER, "Test", sig, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
}

/* rsa_signature_2048_sha256_test.json: tcId 3 ("Test", valid) and tcId 9
 * (the DigestInfo with a long-form length: a different encoded message,
 * which PKCS#1 v1.5 verification must not accept). */
static const char wycheproof_pkcs1_valid[]
    = "264491e844c119f14e425c03282139a558dcdaeb82a4628173cd407fd319f9076eaebc0dd87a1c22e4d178"
      "39096886d58a9d5b7f7aeb63efec56c45ac7bead4203b6886e1faa90e028ec0ae094d46bf3f97efdd19045"
      "cfbc25a1abda2432639f9876405c0d68f8edbf047c12a454f7681d5d5a2b54bd3723d193dbad4338baad75"
      "3264006e2d08931c4b8bb79aa1c9cad10eb6605f87c5831f6e2b08e002f9c6f21141f5841d92727dd3e1d9"
      "9c36bc560da3c9067df99fcaf818941f72588be33032bad22caf6704223bb114d575b6d02d9d222b580005"
      "d930e8f40cce9f672eebb634a20177d84351627964b83f2053d736a84ab1a005f63bd5ba943de6205c";
static const char wycheproof_pkcs1_long_form[]
    = "8a0e82d4f334aca72a718b6f8f643f69c6048d619d5eba71263a5d2d3ac7a7af133b780c7595ca2c982c00"
      "6e861948f543cd0210c758691f9626842c25de2843ea314ca8eff285d47e0cffa54180af416004017034962a"
      "80a5959c3d3f1bfc154a4824462a93c014f6dfe920824f414a6e30e0e5944d480b99949ec7bf64c4a746157"
      "5933b17d7d6b0178b5192392ace3ed8469e8ac1dacae51ad5d3ad73dcb213e056d04596e64d8c0703def311"
      "0c7cecc93ba8ac8059f0f3d66b89d8712c62b41d407e4b4a104f4569558b0290c213cad6d0653898b9df8f4"
      "a453ab07d13bfb7598d505abbd0c4987e4f1ac66e1a523e113e370ab7cf990f0cc63f50f4f0a4";

static void
test_pkcs1_verify_kat (void)
{
  g_autoptr (SECKEYPublicKey) key = import_spki (wycheproof_rsa2048_spki);
  g_autoptr (GBytes) valid = test_hex (wycheproof_pkcs1_valid);
  g_autoptr (GBytes) long_form = test_hex (wycheproof_pkcs1_long_form);
  g_autoptr (GError) error = NULL;

  g_assert_true (test_verify_str (key, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER, "Test",
                                  valid, &error));
  g_assert_no_error (error);
  g_assert_false (test_verify_str (key, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER, "Tesu",
                                   valid, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (key, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER, "Test", valid, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (test_verify_str (key, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER, "123400",
                                   long_form, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
}

/* The 1024-bit KAT key signs (above) but is no peer key we accept: not for
 * import, not for verifying, not for choosing our own scheme. */
static void
test_weak_rsa_refused (void)
{
  g_autoptr (SECKEYPrivateKey) key = import_pkcs8 (wycheproof_pkcs1_key);
  g_autoptr (SECKEYPublicKey) pub = SECKEY_ConvertToPublicKey (key);
  SECItem *spki = SECKEY_EncodeDERSubjectPublicKeyInfo (pub);
  g_autoptr (GBytes) sig = test_hex (wycheproof_pkcs1_tests[1].sig);
  g_autoptr (GError) error = NULL;
  g_autoptr (SECKEYPublicKey) imported = NULL;
  IkeHashAlgorithm sha256 = IKE_HASH_SHA2_256;
  IkeSignChoice choice;

  g_assert_false (ike_sign_check_public_key (pub, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (pub, IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_ENCODING_DER, "Test", sig, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  imported = ike_sign_public_key_import (spki->data, spki->len, &error);
  SECITEM_FreeItem (spki, PR_TRUE);
  g_assert_null (imported);
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (ike_sign_choose (key, &sha256, 1, IKE_SIGN_FLAGS_NONE, &choice, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
}

/* RFC 6979 A.2.5 (P-256) and A.2.6 (P-384): public keys as SPKI, and the
 * deterministic signatures of "sample" (SHA-256 resp. SHA-384) as r || s.
 * These are RFC 4754-style raw signatures; DER is built from them. */
typedef struct
{
  const char *name;
  const char *spki;
  IkeSignScheme scheme;
  IkeAuthMethod method;
  const char *rs;
} EcdsaVector;

static const EcdsaVector rfc6979_vectors[] = {
  { "A.2.5 P-256",
    "3059301306072a8648ce3d020106082a8648ce3d030107034200 04"
    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
    IKE_SIGN_ECDSA_SHA256, IKE_AUTH_ECDSA_256,
    "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8" },
  { "A.2.6 P-384",
    "3076301006072a8648ce3d020106052b81040022036200 04"
    "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"
    "DEF8F0EA9055866064A254515480BC13"
    "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"
    "288B231C3AE0D4FE7344FD2533264720",
    IKE_SIGN_ECDSA_SHA384, IKE_AUTH_ECDSA_384,
    "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
    "81A648152E44ACF96E36DD1E80FABE46"
    "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
    "A329C145786E679E7B82C71A38628AC8" },
};

static GBytes *
raw_to_der (GBytes *raw)
{
  SECItem in = { siBuffer, (unsigned char *) g_bytes_get_data (raw, NULL),
                 (unsigned int) g_bytes_get_size (raw) };
  SECItem out = { siBuffer, NULL, 0 };
  GBytes *der;

  g_assert_cmpint (DSAU_EncodeDerSigWithLen (&out, &in, in.len), ==, SECSuccess);
  der = g_bytes_new (out.data, out.len);
  SECITEM_FreeItem (&out, PR_FALSE);
  return der;
}

static void
check_ecdsa_vector (const EcdsaVector *v)
{
  g_autoptr (SECKEYPublicKey) key = import_spki (v->spki);
  g_autoptr (GBytes) raw = test_hex (v->rs);
  g_autoptr (GBytes) der = raw_to_der (raw);
  g_autoptr (GBytes) raw_bad = test_flip_bit (raw, 5);
  g_autoptr (GError) error = NULL;
  IkeSignScheme scheme = IKE_SIGN_NONE;

  g_assert_true (ike_sign_scheme_for_auth_method (v->method, key, &scheme, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scheme, ==, v->scheme);
  g_assert_true (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_RAW, "sample", raw, &error));
  g_assert_no_error (error);
  g_assert_true (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_DER, "sample", der, &error));
  g_assert_no_error (error);
  g_assert_false (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_RAW, "Sample", raw, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_RAW, "sample", raw_bad, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  /* Each encoding in the other's place is malformed, not merely wrong. */
  g_assert_false (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_DER, "sample", raw, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_RAW, "sample", der, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
}

static void
test_ecdsa_kat (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc6979_vectors); i++)
    {
      g_test_message ("RFC 6979 %s", rfc6979_vectors[i].name);
      check_ecdsa_vector (&rfc6979_vectors[i]);
    }
}

/* Other spellings of the same (r, s) in BER: a redundant leading zero in r,
 * a long-form length.  Only canonical DER verifies. */
static GBytes *
respell (GBytes *der, const guint8 *head, gsize head_len, gsize skip)
{
  GByteArray *out = g_byte_array_new ();
  gsize len;
  const guint8 *d = g_bytes_get_data (der, &len);

  g_byte_array_append (out, head, head_len);
  g_byte_array_append (out, d + skip, len - skip);
  return g_byte_array_free_to_bytes (out);
}

static void
test_ecdsa_noncanonical_der (void)
{
  const EcdsaVector *v = &rfc6979_vectors[0];
  g_autoptr (SECKEYPublicKey) key = import_spki (v->spki);
  g_autoptr (GBytes) raw = test_hex (v->rs);
  g_autoptr (GBytes) der = raw_to_der (raw);
  g_autoptr (GBytes) zero = NULL;
  g_autoptr (GBytes) long_form = NULL;
  g_autoptr (GError) error = NULL;

  /* 30 46 02 21 00 <r: 32> 02 21 00 <s: 32>: both have their top bit set. */
  g_assert_cmpuint (g_bytes_get_size (der), ==, 72);
  g_assert_cmpmem (g_bytes_get_data (der, NULL), 5, "\x30\x46\x02\x21\x00", 5);
  zero = respell (der, (const guint8 *) "\x30\x47\x02\x22\x00", 5, 4);
  long_form = respell (der, (const guint8 *) "\x30\x81\x46", 3, 2);
  g_assert_true (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_DER, "sample", der, &error));
  g_assert_no_error (error);
  g_assert_false (test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_DER, "sample", zero, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      test_verify_str (key, v->scheme, IKE_SIGN_ENCODING_DER, "sample", long_form, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
}

/* ---- round trips with fresh keys ---- */

static GBytes *
sign_or_die (TestKey *key, IkeSignScheme scheme, IkeSignEncoding encoding, const char *msg)
{
  g_autoptr (GError) error = NULL;
  GBytes *sig
      = ike_sign_data (key->priv, scheme, encoding, (const guint8 *) msg, strlen (msg), &error);

  g_assert_no_error (error);
  g_assert_nonnull (sig);
  return sig;
}

static void
assert_rejected (TestKey *key, IkeSignScheme scheme, IkeSignEncoding encoding, const char *msg,
                 GBytes *sig)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (test_verify_str (key->pub, scheme, encoding, msg, sig, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == IKE_SIGN_ERROR);
  g_assert_true (error->code == IKE_SIGN_ERROR_BAD_SIGNATURE
                 || error->code == IKE_SIGN_ERROR_INVALID || error->code == IKE_SIGN_ERROR_KEY);
}

static void
round_trip (TestKeyIndex key_index, TestKeyIndex other_index, IkeSignScheme scheme,
            IkeSignScheme wrong_scheme, IkeSignEncoding encoding)
{
  static const char msg[] = "IKE_SA_INIT | Nr | prf(SK_pi, IDi')";
  TestKey *key = test_key (key_index);
  TestKey *other = test_key (other_index);
  g_autoptr (GBytes) sig = sign_or_die (key, scheme, encoding, msg);
  g_autoptr (GError) error = NULL;

  g_test_message ("%s %s %s", key->name, ike_sign_scheme_to_string (scheme),
                  encoding == IKE_SIGN_ENCODING_DER ? "DER" : "raw");
  g_assert_true (test_verify_str (key->pub, scheme, encoding, msg, sig, &error));
  g_assert_no_error (error);
  assert_rejected (key, scheme, encoding, "IKE_SA_INIT | Nr | prf(SK_pi, IDi\")", sig);
  for (gsize bit = 0; bit < g_bytes_get_size (sig); bit += 17)
    {
      g_autoptr (GBytes) bad = test_flip_bit (sig, bit);

      assert_rejected (key, scheme, encoding, msg, bad);
    }
  assert_rejected (other, scheme, encoding, msg, sig);
  assert_rejected (key, wrong_scheme, encoding, msg, sig);
}

static void
test_round_trip_rsa (void)
{
  static const struct
  {
    IkeSignScheme scheme, wrong;
  } cases[] = {
    { IKE_SIGN_RSA_PKCS1_SHA256, IKE_SIGN_RSA_PSS_SHA256 },
    { IKE_SIGN_RSA_PKCS1_SHA384, IKE_SIGN_RSA_PKCS1_SHA512 },
    { IKE_SIGN_RSA_PKCS1_SHA512, IKE_SIGN_RSA_PKCS1_SHA256 },
    { IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_RSA_PKCS1_SHA256 },
    { IKE_SIGN_RSA_PSS_SHA384, IKE_SIGN_RSA_PSS_SHA256 },
    { IKE_SIGN_RSA_PSS_SHA512, IKE_SIGN_RSA_PSS_SHA384 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      round_trip (TEST_KEY_RSA2048, TEST_KEY_RSA3072, cases[i].scheme, cases[i].wrong,
                  IKE_SIGN_ENCODING_DER);
      round_trip (TEST_KEY_RSA3072, TEST_KEY_RSA2048, cases[i].scheme, cases[i].wrong,
                  IKE_SIGN_ENCODING_DER);
    }
}

static void
test_round_trip_ecdsa (void)
{
  static const struct
  {
    TestKeyIndex key, other;
    IkeSignScheme scheme, wrong;
  } cases[] = {
    { TEST_KEY_P256, TEST_KEY_P384, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ECDSA_SHA384 },
    { TEST_KEY_P384, TEST_KEY_P256, IKE_SIGN_ECDSA_SHA384, IKE_SIGN_ECDSA_SHA256 },
    { TEST_KEY_P521, TEST_KEY_P384, IKE_SIGN_ECDSA_SHA512, IKE_SIGN_ECDSA_SHA256 },
    /* RFC 7427 lets any hash go with any curve. */
    { TEST_KEY_P256, TEST_KEY_P521, IKE_SIGN_ECDSA_SHA512, IKE_SIGN_ECDSA_SHA256 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      round_trip (cases[i].key, cases[i].other, cases[i].scheme, cases[i].wrong,
                  IKE_SIGN_ENCODING_DER);
      round_trip (cases[i].key, cases[i].other, cases[i].scheme, cases[i].wrong,
                  IKE_SIGN_ENCODING_RAW);
    }
}

static void
test_ecdsa_encodings (void)
{
  TestKey *key = test_key (TEST_KEY_P384);
  g_autoptr (GBytes) raw = sign_or_die (key, IKE_SIGN_ECDSA_SHA384, IKE_SIGN_ENCODING_RAW, "x");
  g_autoptr (GBytes) der = sign_or_die (key, IKE_SIGN_ECDSA_SHA384, IKE_SIGN_ENCODING_DER, "x");
  const guint8 *d = g_bytes_get_data (der, NULL);

  /* RFC 4754: r || s, 48 bytes each on P-384.  RFC 7427: a SEQUENCE of
   * two INTEGERs, whose length depends on the leading bits. */
  g_assert_cmpuint (g_bytes_get_size (raw), ==, 96);
  g_assert_cmpuint (d[0], ==, 0x30);
  g_assert_cmpuint (d[1], ==, g_bytes_get_size (der) - 2);
  g_assert_cmpuint (d[2], ==, 0x02);
}

static void
test_key_mismatch (void)
{
  TestKey *rsa = test_key (TEST_KEY_RSA2048);
  TestKey *ec = test_key (TEST_KEY_P256);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) sig = NULL;

  sig = ike_sign_data (rsa->priv, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER,
                       (const guint8 *) "x", 1, &error);
  g_assert_null (sig);
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  sig = ike_sign_data (ec->priv, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER,
                       (const guint8 *) "x", 1, &error);
  g_assert_null (sig);
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  sig = ike_sign_data (ec->priv, IKE_SIGN_NONE, IKE_SIGN_ENCODING_DER, (const guint8 *) "x", 1,
                       &error);
  g_assert_null (sig);
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  sig = sign_or_die (ec, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER, "x");
  g_assert_false (ike_sign_verify (rsa->pub, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER,
                                   (const guint8 *) "x", 1, g_bytes_get_data (sig, NULL),
                                   g_bytes_get_size (sig), &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (ike_sign_verify (ec->pub, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER,
                                   (const guint8 *) "x", 1, NULL, 0, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
}

/* ---- choosing ---- */

typedef struct
{
  TestKeyIndex key;
  IkeHashAlgorithm peer[4];
  gsize n_peer;
  IkeSignFlags flags;
  IkeAuthMethod method; /* 0: no choice possible */
  IkeSignScheme scheme;
  IkeSignEncoding encoding;
} ChooseCase;

static void
test_choose (void)
{
  static const ChooseCase cases[] = {
    { TEST_KEY_RSA2048, { 2, 3, 4 }, 3, 0, 14, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_RSA2048, { 4, 3, 2 }, 3, 0, 14, IKE_SIGN_RSA_PSS_SHA256, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_RSA2048,
      { 2, 3, 4 },
      3,
      IKE_SIGN_FLAG_RSA_PKCS1,
      14,
      IKE_SIGN_RSA_PKCS1_SHA256,
      IKE_SIGN_ENCODING_DER },
    { TEST_KEY_RSA3072, { 1, 4 }, 2, 0, 14, IKE_SIGN_RSA_PSS_SHA512, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_RSA2048, { 0 }, 0, 0, 0 },
    { TEST_KEY_RSA2048, { 1, 5 }, 2, 0, 0 },
    { TEST_KEY_P256, { 2, 3, 4 }, 3, 0, 14, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_P384, { 2, 3, 4 }, 3, 0, 14, IKE_SIGN_ECDSA_SHA384, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_P384, { 2 }, 1, 0, 14, IKE_SIGN_ECDSA_SHA256, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_P521, { 3, 4 }, 2, 0, 14, IKE_SIGN_ECDSA_SHA512, IKE_SIGN_ENCODING_DER },
    { TEST_KEY_P256,
      { 0 },
      0,
      0,
      IKE_AUTH_ECDSA_256,
      IKE_SIGN_ECDSA_SHA256,
      IKE_SIGN_ENCODING_RAW },
    { TEST_KEY_P384,
      { 1 },
      1,
      0,
      IKE_AUTH_ECDSA_384,
      IKE_SIGN_ECDSA_SHA384,
      IKE_SIGN_ENCODING_RAW },
    { TEST_KEY_P521,
      { 0 },
      0,
      0,
      IKE_AUTH_ECDSA_521,
      IKE_SIGN_ECDSA_SHA512,
      IKE_SIGN_ENCODING_RAW },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const ChooseCase *c = &cases[i];
      g_autoptr (GError) error = NULL;
      IkeSignChoice choice = { 0 };
      gboolean ok = ike_sign_choose (test_key (c->key)->priv, c->peer, c->n_peer, c->flags, &choice,
                                     &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, test_key (c->key)->name);
      if (c->method == 0)
        {
          g_assert_false (ok);
          g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (choice.method, ==, c->method);
      g_assert_cmpint (choice.scheme, ==, c->scheme);
      g_assert_cmpint (choice.encoding, ==, c->encoding);
    }
}

static void
test_auth_method (void)
{
  g_autoptr (GError) error = NULL;
  IkeSignScheme scheme = IKE_SIGN_NONE;

  g_assert_true (ike_sign_scheme_for_auth_method (IKE_AUTH_ECDSA_521, test_key (TEST_KEY_P521)->pub,
                                                  &scheme, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scheme, ==, IKE_SIGN_ECDSA_SHA512);
  g_assert_false (ike_sign_scheme_for_auth_method (IKE_AUTH_ECDSA_256,
                                                   test_key (TEST_KEY_P384)->pub, &scheme, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (ike_sign_scheme_for_auth_method (
      IKE_AUTH_ECDSA_256, test_key (TEST_KEY_RSA2048)->pub, &scheme, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (ike_sign_scheme_for_auth_method (
      IKE_AUTH_RSA_SIG, test_key (TEST_KEY_RSA2048)->pub, &scheme, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (ike_sign_scheme_for_auth_method (
      IKE_AUTH_DIGITAL_SIGNATURE, test_key (TEST_KEY_RSA2048)->pub, &scheme, &error));
  g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED);
}

/* ---- raw public keys ---- */

static void
test_import (void)
{
  for (TestKeyIndex i = 0; i < TEST_N_KEYS; i++)
    {
      TestKey *key = test_key (i);
      SECItem *spki = SECKEY_EncodeDERSubjectPublicKeyInfo (key->pub);
      g_autoptr (GError) error = NULL;
      g_autoptr (SECKEYPublicKey) whole
          = ike_sign_public_key_import (spki->data, spki->len, &error);
      g_autoptr (SECKEYPublicKey) cut = NULL;
      g_autoptr (GBytes) sig = NULL;
      IkeSignChoice choice;
      IkeHashAlgorithm sha384 = IKE_HASH_SHA2_384;

      g_test_message ("%s", key->name);
      g_assert_no_error (error);
      g_assert_nonnull (whole);
      g_assert_true (ike_sign_choose (key->priv, &sha384, 1, 0, &choice, &error));
      sig = sign_or_die (key, choice.scheme, choice.encoding, "raw key");
      g_assert_true (
          test_verify_str (whole, choice.scheme, choice.encoding, "raw key", sig, &error));
      g_assert_no_error (error);
      cut = ike_sign_public_key_import (spki->data, spki->len - 1, &error);
      g_assert_null (cut);
      g_assert_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID);
      SECITEM_FreeItem (spki, PR_TRUE);
    }
}

static void
test_import_garbage (void)
{
  static const char *cases[] = {
    "",
    "30",
    "3000",
    "0000000000",
    /* An SPKI with an unknown algorithm OID (1.2.3.4) and a tiny key. */
    "300e 3007 0603 2a03 0405 0003 0300 0102",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) der = test_hex (cases[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (SECKEYPublicKey) key = ike_sign_public_key_import (g_bytes_get_data (der, NULL),
                                                                    g_bytes_get_size (der), &error);

      g_assert_null (key);
      g_assert_nonnull (error);
      g_assert_true (error->domain == IKE_SIGN_ERROR);
    }
}

static void
test_names (void)
{
  gsize n = 0;
  const IkeHashAlgorithm *hashes = ike_sign_supported_hashes (&n);

  g_assert_cmpstr (ike_sign_scheme_to_string (IKE_SIGN_RSA_PSS_SHA384), ==, "rsa-pss-sha384");
  g_assert_cmpstr (ike_sign_scheme_to_string (IKE_SIGN_ECDSA_SHA256), ==, "ecdsa-sha256");
  g_assert_null (ike_sign_scheme_to_string (IKE_SIGN_NONE));
  g_assert_cmpint (ike_sign_scheme_hash (IKE_SIGN_RSA_PKCS1_SHA512), ==, IKE_HASH_SHA2_512);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (hashes[0], ==, IKE_HASH_SHA2_256);
  g_assert_cmpint (hashes[2], ==, IKE_HASH_SHA2_512);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_nss_init ();
  g_test_add_func ("/ike-sign/kat/rsa-pkcs1-sign-wycheproof", test_pkcs1_sign_kat);
  g_test_add_func ("/ike-sign/kat/rsa-pkcs1-verify-wycheproof", test_pkcs1_verify_kat);
  g_test_add_func ("/ike-sign/kat/rsa-pss-wycheproof", test_pss_kat);
  g_test_add_func ("/ike-sign/kat/ecdsa-rfc6979", test_ecdsa_kat);
  g_test_add_func ("/ike-sign/ecdsa/noncanonical-der", test_ecdsa_noncanonical_der);
  g_test_add_func ("/ike-sign/ecdsa/encodings", test_ecdsa_encodings);
  g_test_add_func ("/ike-sign/round-trip/rsa", test_round_trip_rsa);
  g_test_add_func ("/ike-sign/round-trip/ecdsa", test_round_trip_ecdsa);
  g_test_add_func ("/ike-sign/key-mismatch", test_key_mismatch);
  g_test_add_func ("/ike-sign/weak-rsa-refused", test_weak_rsa_refused);
  g_test_add_func ("/ike-sign/choose", test_choose);
  g_test_add_func ("/ike-sign/auth-method", test_auth_method);
  g_test_add_func ("/ike-sign/import", test_import);
  g_test_add_func ("/ike-sign/import-garbage", test_import_garbage);
  g_test_add_func ("/ike-sign/names", test_names);
  status = g_test_run ();
  test_nss_shutdown ();
  return status;
}
