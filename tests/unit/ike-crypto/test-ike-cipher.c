/* SK payload protection: the ciphers against their published vectors (GCM
 * spec test cases, RFC 8439 §2.8.2, RFC 3602 §4), then IKE's framing: round
 * trips for every supported combination, and every kind of tampering failing
 * with one and the same error. */
#include "crypto-test.h"
#include "ike-crypto-private.h"

static IkeCipher *
cipher_from_hex (const IkeCipherSpec *spec, const char *sk_e_hex, const char *sk_a_hex)
{
  g_autoptr (PK11SymKey) sk_e = key_from_hex (sk_e_hex);
  g_autoptr (PK11SymKey) sk_a = sk_a_hex != NULL ? key_from_hex (sk_a_hex) : NULL;
  g_autoptr (GError) error = NULL;
  IkeCipher *cipher = ike_cipher_new (spec, sk_e, sk_a, &error);

  g_assert_no_error (error);
  g_assert_nonnull (cipher);
  return cipher;
}

typedef struct
{
  const char *source;
  IkeCipherSpec spec;
  const char *sk_e; /* key || salt for AEAD */
  const char *iv;   /* the explicit IV (AEAD: after the 4-byte salt) */
  const char *aad;
  const char *plain;
  const char *cipher; /* ciphertext || tag for AEAD */
} CipherVector;

#define GCM_PLAIN                                                                                  \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                               \
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define CHACHA_PLAIN /* "Ladies and Gentlemen of the class of '99: If I could ..." */              \
  "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"                               \
  "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"                               \
  "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"                               \
  "637265656e20776f756c642062652069742e"
#define CHACHA_CIPHER                                                                              \
  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"                               \
  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"                               \
  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"                               \
  "3ff4def08e4b7a9de576d26586cec64b6116"                                                           \
  "1ae10b594f09e26a7e902ecbd0600691"

static const CipherVector cipher_vectors[] = {
  /* McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test
   * case 4: IV cafebabe facedbaddecaf888 splits into RFC 4106's salt and
   * explicit IV. */
  { "GCM test case 4",
    { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE },
    "feffe9928665731c6d6a8f9467308308"
    "cafebabe",
    "facedbaddecaf888",
    GCM_AAD,
    GCM_PLAIN,
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
    "5bc94fbc3221a5db94fae95ae7121a47" },
  /* Test case 16: the same with a 256-bit key. */
  { "GCM test case 16",
    { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE },
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
    "cafebabe",
    "facedbaddecaf888",
    GCM_AAD,
    GCM_PLAIN,
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
    "76fc6ece0f4e1768cddf8853bb2d551b" },
  /* RFC 8439 §2.8.2; RFC 7634 §2 makes its 12-byte nonce salt || IV. */
  { "RFC 8439 2.8.2",
    { IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE },
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "07000000",
    "4041424344454647",
    "50515253c0c1c2c3c4c5c6c7",
    CHACHA_PLAIN,
    CHACHA_CIPHER },
  /* RFC 3602 §4, cases 1 and 2 (the integrity key plays no part here). */
  { "RFC 3602 case 1",
    { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 },
    "06a9214036b8a15b512e03d534120006",
    "3dafba429d9eb430b422da802c9fac41",
    "",
    "53696e676c6520626c6f636b206d7367" /* "Single block msg" */,
    "e353779c1079aeb82708942dbe77181a" },
  { "RFC 3602 case 2",
    { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 },
    "c286696d887c9aa0611bbb3e2025a45a",
    "562e17996d093d28ddb3ba695a2e6f58",
    "",
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
};

#define SOME_INTEG_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void
test_cipher_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cipher_vectors); i++)
    {
      const CipherVector *v = &cipher_vectors[i];
      gboolean aead = ike_encr_is_aead (v->spec.encr);
      g_autoptr (IkeCipher) cipher
          = cipher_from_hex (&v->spec, v->sk_e, aead ? NULL : SOME_INTEG_KEY);
      g_autoptr (GBytes) iv = hex (v->iv);
      g_autoptr (GBytes) aad = hex (v->aad);
      g_autoptr (GBytes) plain = hex (v->plain);
      g_autoptr (GBytes) want = hex (v->cipher);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) sealed = NULL;
      g_autoptr (GBytes) opened = NULL;

      g_test_message ("%s", v->source);
      g_assert_cmpuint (ike_cipher_iv_length (cipher), ==, g_bytes_get_size (iv));
      sealed = ike_cipher_encrypt_raw (
          cipher, g_bytes_get_data (iv, NULL), g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
          g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), &error);
      g_assert_no_error (error);
      assert_bytes (sealed, want);
      opened = ike_cipher_decrypt_raw (
          cipher, g_bytes_get_data (iv, NULL), g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
          g_bytes_get_data (want, NULL), g_bytes_get_size (want), &error);
      g_assert_no_error (error);
      assert_bytes (opened, plain);
    }
}

/* The RFC 8439 vector through IKE's own opening: its last plaintext octet,
 * '.', reads as a Pad Length of 46, so the inner payloads are the first
 * 114 - 46 - 1 = 67 octets. */
static void
test_open_published_body (void)
{
  const CipherVector *v = &cipher_vectors[2];
  g_autoptr (IkeCipher) cipher = cipher_from_hex (&v->spec, v->sk_e, NULL);
  g_autoptr (GBytes) iv = hex (v->iv);
  g_autoptr (GBytes) ct = hex (v->cipher);
  g_autoptr (GBytes) aad = hex (v->aad);
  g_autoptr (GBytes) plain = hex (v->plain);
  g_autoptr (GByteArray) body = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) inner = NULL;

  g_byte_array_append (body, g_bytes_get_data (iv, NULL), 8);
  g_byte_array_append (body, g_bytes_get_data (ct, NULL), (guint) g_bytes_get_size (ct));
  inner = ike_cipher_open (cipher, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad), body->data,
                           body->len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (inner, NULL), g_bytes_get_size (inner),
                   g_bytes_get_data (plain, NULL), 67);
}

/* ---- IKE framing ---- */

typedef struct
{
  const char *name;
  IkeCipherSpec spec;
} Suite;

static const Suite suites[] = {
  { "aes-gcm16-128", { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE } },
  { "aes-gcm16-256", { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE } },
  { "chacha20-poly1305", { IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE } },
  { "aes-cbc-128-sha256", { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 } },
  { "aes-cbc-256-sha256", { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128 } },
  { "aes-cbc-256-sha384", { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192 } },
  { "aes-cbc-256-sha512", { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256 } },
  { "aes-cbc-128-sha1", { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96 } },
};

/* Two ends of one direction: the sender seals, the receiver opens, each
 * with its own IkeCipher made from the same random keys. */
typedef struct
{
  IkeCipher *sender;
  IkeCipher *receiver;
  PK11SymKey *sk_a;
} Pair;

static PK11SymKey *
random_key (gsize len)
{
  g_autofree guint8 *bytes = g_malloc (len);
  g_autoptr (GBytes) wrapped = NULL;

  g_assert_true (ike_random_bytes (bytes, len, NULL));
  wrapped = g_bytes_new (bytes, len);
  return key_from_bytes (wrapped);
}

static void
pair_init (Pair *pair, const IkeCipherSpec *spec)
{
  g_autoptr (PK11SymKey) sk_e = random_key (ike_encr_key_length (spec->encr, spec->key_bits));
  g_autoptr (GError) error = NULL;

  pair->sk_a
      = ike_encr_is_aead (spec->encr) ? NULL : random_key (ike_integ_key_length (spec->integ));
  pair->sender = ike_cipher_new (spec, sk_e, pair->sk_a, &error);
  g_assert_no_error (error);
  pair->receiver = ike_cipher_new (spec, sk_e, pair->sk_a, &error);
  g_assert_no_error (error);
}

static void
pair_clear (Pair *pair)
{
  g_clear_pointer (&pair->sender, ike_cipher_free);
  g_clear_pointer (&pair->receiver, ike_cipher_free);
  g_clear_pointer (&pair->sk_a, PK11_FreeSymKey);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Pair, pair_clear)

/* Stand-in for the IKE header and SK payload header. */
static const guint8 test_aad[32]
    = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
        0xcc, 0xdd, 0xee, 0xff, 0x00, 0x2e, 0x20, 0x23, 0x08, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x70, 0x29, 0x00, 0x00, 0x54 };

static void
check_round_trip (const Suite *suite)
{
  static const gsize lengths[] = { 0, 1, 15, 16, 17, 31, 100, 1000 };
  g_auto (Pair) pair = { 0 };
  guint8 plain[1000];

  pair_init (&pair, &suite->spec);
  for (gsize i = 0; i < sizeof plain; i++)
    plain[i] = (guint8) (i * 7 + 3);
  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) body = NULL;
      g_autoptr (GBytes) inner = NULL;
      gsize len = lengths[i];

      body = ike_cipher_seal (pair.sender, test_aad, sizeof test_aad, plain, len, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (body), ==, ike_cipher_sealed_length (pair.sender, len));
      if (!ike_encr_is_aead (suite->spec.encr))
        g_assert_cmpuint ((g_bytes_get_size (body) - 16 - ike_cipher_icv_length (pair.sender)) % 16,
                          ==, 0);
      inner = ike_cipher_open (pair.receiver, test_aad, sizeof test_aad,
                               g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (inner, NULL), g_bytes_get_size (inner), plain, len);
    }
}

static void
test_round_trips (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_test_message ("%s", suites[i].name);
      check_round_trip (&suites[i]);
    }
}

static void
assert_integrity_error (GError *error, const char *first_message)
{
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY);
  /* The same words whatever went wrong: no oracle. */
  g_assert_cmpstr (error->message, ==, first_message);
}

static void
assert_refused (IkeCipher *receiver, const guint8 *aad, gsize aad_len, const guint8 *body,
                gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) inner = ike_cipher_open (receiver, aad, aad_len, body, len, &error);

  g_assert_null (inner);
  assert_integrity_error (error, "the encrypted payload failed its integrity check");
}

/* Every single flipped bit, in the AAD, the IV, the ciphertext and the ICV,
 * and every truncation, is refused. */
static void
check_tampering (const Suite *suite)
{
  g_auto (Pair) pair = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  guint8 aad[sizeof test_aad];
  guint8 *copy;
  gsize len;

  pair_init (&pair, &suite->spec);
  body = ike_cipher_seal (pair.sender, test_aad, sizeof test_aad, (const guint8 *) "inner payloads",
                          14, &error);
  g_assert_no_error (error);
  copy = g_bytes_unref_to_data (g_bytes_ref (body), &len);
  for (gsize i = 0; i < len; i++)
    {
      copy[i] ^= 0x01;
      assert_refused (pair.receiver, test_aad, sizeof test_aad, copy, len);
      copy[i] ^= 0x01;
    }
  memcpy (aad, test_aad, sizeof aad);
  for (gsize i = 0; i < sizeof aad; i++)
    {
      aad[i] ^= 0x80;
      assert_refused (pair.receiver, aad, sizeof aad, copy, len);
      aad[i] ^= 0x80;
    }
  for (gsize cut = 0; cut < len; cut++)
    assert_refused (pair.receiver, test_aad, sizeof test_aad, copy, cut);
  g_free (copy);
}

static void
test_tampering (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_test_message ("%s", suites[i].name);
      check_tampering (&suites[i]);
    }
}

/* A body whose ICV is right but whose Pad Length points before the start of
 * the plaintext: refused with the same error as a forgery.  Built with the
 * raw cipher and, for CBC, the ICV computed by hand as an HMAC. */
static GByteArray *
body_with_pad_length (Pair *pair, const IkeCipherSpec *spec, guint8 pad_length)
{
  g_autoptr (GError) error = NULL;
  gsize iv_len = ike_cipher_iv_length (pair->sender);
  gsize icv_len = ike_cipher_icv_length (pair->sender);
  guint8 inner[16] = { 'x', [15] = pad_length };
  guint8 iv[16] = { 1, 2, 3 };
  g_autoptr (GBytes) ct = NULL;
  GByteArray *body = g_byte_array_new ();

  ct = ike_cipher_encrypt_raw (pair->sender, iv, test_aad, sizeof test_aad, inner, sizeof inner,
                               &error);
  g_assert_no_error (error);
  g_byte_array_append (body, iv, (guint) iv_len);
  g_byte_array_append (body, g_bytes_get_data (ct, NULL), (guint) g_bytes_get_size (ct));
  if (!ike_encr_is_aead (spec->encr))
    {
      IkePrfId prf = spec->integ == IKE_INTEG_HMAC_SHA2_256_128   ? IKE_PRF_HMAC_SHA2_256
                     : spec->integ == IKE_INTEG_HMAC_SHA2_384_192 ? IKE_PRF_HMAC_SHA2_384
                     : spec->integ == IKE_INTEG_HMAC_SHA2_512_256 ? IKE_PRF_HMAC_SHA2_512
                                                                  : IKE_PRF_HMAC_SHA1;
      g_autoptr (GByteArray) covered = g_byte_array_new ();
      g_autoptr (GBytes) mac = NULL;

      g_byte_array_append (covered, test_aad, sizeof test_aad);
      g_byte_array_append (covered, body->data, body->len);
      mac = ike_prf (prf, pair->sk_a, covered->data, covered->len, &error);
      g_assert_no_error (error);
      g_byte_array_append (body, g_bytes_get_data (mac, NULL), (guint) icv_len);
    }
  return body;
}

static void
test_bad_padding (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_auto (Pair) pair = { 0 };
      g_autoptr (GByteArray) bad = NULL;
      g_autoptr (GByteArray) good = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) inner = NULL;

      pair_init (&pair, &suites[i].spec);
      /* 16 octets of plaintext cannot hold 0x40 octets of padding. */
      bad = body_with_pad_length (&pair, &suites[i].spec, 0x40);
      assert_refused (pair.receiver, test_aad, sizeof test_aad, bad->data, bad->len);
      /* Built the same way with a possible Pad Length, it opens: only the
       * padding was wrong above. */
      good = body_with_pad_length (&pair, &suites[i].spec, 14);
      inner = ike_cipher_open (pair.receiver, test_aad, sizeof test_aad, good->data, good->len,
                               &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (inner, NULL), g_bytes_get_size (inner), "x", 1);
    }
}

static void
test_unique_ivs (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_auto (Pair) pair = { 0 };
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) first = NULL;
      g_autoptr (GBytes) second = NULL;
      gsize iv_len;

      pair_init (&pair, &suites[i].spec);
      iv_len = ike_cipher_iv_length (pair.sender);
      first = ike_cipher_seal (pair.sender, test_aad, sizeof test_aad, (const guint8 *) "same", 4,
                               &error);
      second = ike_cipher_seal (pair.sender, test_aad, sizeof test_aad, (const guint8 *) "same", 4,
                                &error);
      g_assert_no_error (error);
      /* Same plaintext, same key: the IV and therefore everything differs. */
      g_assert_true (
          memcmp (g_bytes_get_data (first, NULL), g_bytes_get_data (second, NULL), iv_len) != 0);
      g_assert_false (g_bytes_equal (first, second));
    }
}

static void
test_max_plaintext (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    {
      g_auto (Pair) pair = { 0 };

      pair_init (&pair, &suites[i].spec);
      for (gsize body = 0; body < 200; body++)
        {
          gsize room = ike_cipher_max_plaintext (pair.sender, body);

          if (room > 0 || ike_cipher_sealed_length (pair.sender, 0) <= body)
            g_assert_cmpuint (ike_cipher_sealed_length (pair.sender, room), <=, body);
          g_assert_cmpuint (ike_cipher_sealed_length (pair.sender, room + 1), >, body);
        }
    }
}

static void
test_bad_keys (void)
{
  const IkeCipherSpec gcm = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE };
  const IkeCipherSpec cbc = { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 };
  g_autoptr (PK11SymKey) k32 = random_key (32);
  g_autoptr (PK11SymKey) k16 = random_key (16);
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeCipher) no_salt = NULL;
  g_autoptr (IkeCipher) no_integ_key = NULL;
  g_autoptr (IkeCipher) short_integ_key = NULL;

  /* GCM-256 needs 36 bytes: the key and its salt. */
  no_salt = ike_cipher_new (&gcm, k32, NULL, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (no_salt);
  g_clear_error (&error);
  no_integ_key = ike_cipher_new (&cbc, k16, NULL, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (no_integ_key);
  g_clear_error (&error);
  short_integ_key = ike_cipher_new (&cbc, k16, k16, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (short_integ_key);
}

int
main (int argc, char **argv)
{
  crypto_test_init (&argc, &argv);
  g_test_add_func ("/ike-crypto/cipher/vectors", test_cipher_vectors);
  g_test_add_func ("/ike-crypto/cipher/open-published-body", test_open_published_body);
  g_test_add_func ("/ike-crypto/cipher/round-trips", test_round_trips);
  g_test_add_func ("/ike-crypto/cipher/tampering", test_tampering);
  g_test_add_func ("/ike-crypto/cipher/bad-padding", test_bad_padding);
  g_test_add_func ("/ike-crypto/cipher/unique-ivs", test_unique_ivs);
  g_test_add_func ("/ike-crypto/cipher/max-plaintext", test_max_plaintext);
  g_test_add_func ("/ike-crypto/cipher/bad-keys", test_bad_keys);
  return crypto_test_run ();
}
