/* AUTH computation (RFC 7296 §2.15, RFC 7619): the signed octets, PSK and
 * NULL authentication end to end (two parties who only share the DH
 * exchange and the PSK), the refusals, the PSK strength check, and the
 * random-number and secret-buffer helpers. */
#include "crypto-test.h"
#include "ike-crypto-private.h"

static GBytes *
bytes_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* The octets are message | nonce | prf(SK_p, RestOfIDPayload). */
static void
test_signed_octets (void)
{
  g_autoptr (PK11SymKey) sk_p = key_from_hex ("000102030405060708090a0b0c0d0e0f"
                                              "101112131415161718191a1b1c1d1e1f");
  g_autoptr (GBytes) message = bytes_of ("IKE_SA_INIT request");
  g_autoptr (GBytes) nonce = bytes_of ("responder nonce!");
  const guint8 id[] = { IKE_ID_FQDN, 0, 0, 0, 'h', 'o', 's', 't' };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) maced_id = NULL;
  g_autoptr (GBytes) octets = NULL;
  const guint8 *o;

  octets
      = ike_auth_signed_octets (IKE_PRF_HMAC_SHA2_256, sk_p, message, nonce, id, sizeof id, &error);
  g_assert_no_error (error);
  maced_id = ike_prf (IKE_PRF_HMAC_SHA2_256, sk_p, id, sizeof id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (octets), ==, 19 + 16 + 32);
  o = g_bytes_get_data (octets, NULL);
  g_assert_cmpmem (o, 19, "IKE_SA_INIT request", 19);
  g_assert_cmpmem (o + 19, 16, "responder nonce!", 16);
  g_assert_cmpmem (o + 35, 32, g_bytes_get_data (maced_id, NULL), 32);
}

/* No published vector exists for the Shared Key Message Integrity Code; the
 * expected value was computed with Python's hmac module (an independent HMAC)
 * from RFC 7296 §2.15: prf(prf(PSK, "Key Pad for IKEv2"), octets). */
static void
test_psk_known_answer (void)
{
  const char *psk = "n7#Qe2!vLw9@Zr4$Tb6^";
  g_autoptr (GByteArray) octets = g_byte_array_new ();
  g_autoptr (GBytes) signed_octets = NULL;
  g_autoptr (GBytes) want
      = hex ("a8ef915c40756df1a5bd3df9d6767f3a1a9cebf0ab72de9c4d6c4211c7e1826d");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth = NULL;
  guint8 ones[32];

  memset (ones, 0x01, sizeof ones);
  g_byte_array_append (octets, (const guint8 *) "IKE_SA_INIT request", 19);
  g_byte_array_append (octets, (const guint8 *) "Nr-nonce-data-16", 16);
  g_byte_array_append (octets, ones, sizeof ones);
  signed_octets = g_bytes_new (octets->data, octets->len);
  auth = ike_auth_psk (IKE_PRF_HMAC_SHA2_256, (const guint8 *) psk, strlen (psk), signed_octets,
                       &error);
  g_assert_no_error (error);
  assert_bytes (auth, want);
}

/* ---- Two parties: IKE_SA_INIT keys, then AUTH made by one, checked by the other ---- */

typedef struct
{
  IkeSaKeys keys;
  GBytes *first_message; /* the IKE_SA_INIT message this side sent */
  GBytes *nonce;
} Party;

static void
party_clear (Party *party)
{
  ike_sa_keys_clear (&party->keys);
  g_clear_pointer (&party->first_message, g_bytes_unref);
  g_clear_pointer (&party->nonce, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Party, party_clear)

static void
derive_side (Party *me, IkeDh *dh, GBytes *peer_ke, GBytes *ni, GBytes *nr, const guint8 *spi_i,
             const guint8 *spi_r)
{
  const IkeCipherSpec spec = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE };
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) g_ir = NULL;
  g_autoptr (PK11SymKey) skeyseed = NULL;

  g_ir = ike_dh_derive (dh, g_bytes_get_data (peer_ke, NULL), g_bytes_get_size (peer_ke), &error);
  g_assert_no_error (error);
  skeyseed = ike_skeyseed (IKE_PRF_HMAC_SHA2_256, g_ir, ni, nr, &error);
  g_assert_no_error (error);
  g_assert_true (ike_sa_keys_derive (&me->keys, IKE_PRF_HMAC_SHA2_256, &spec, skeyseed, ni, nr,
                                     spi_i, spi_r, &error));
  g_assert_no_error (error);
}

/* Each side derives its own keys from nothing but what crossed the wire. */
static void
set_up_parties (Party *initiator, Party *responder)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeDh) dh_i = ike_dh_new (IKE_KE_CURVE25519, &error);
  g_autoptr (IkeDh) dh_r = ike_dh_new (IKE_KE_CURVE25519, &error);
  g_autoptr (GBytes) ke_i = ike_dh_get_public (dh_i);
  g_autoptr (GBytes) ke_r = ike_dh_get_public (dh_r);
  guint8 spi_i[8], spi_r[8];

  g_assert_no_error (error);
  g_assert_true (ike_random_ike_spi (spi_i, &error));
  g_assert_true (ike_random_ike_spi (spi_r, &error));
  initiator->nonce = ike_random_nonce (32, &error);
  responder->nonce = ike_random_nonce (32, &error);
  g_assert_no_error (error);
  initiator->first_message = bytes_of ("HDR, SAi1, KEi, Ni (the initiator's IKE_SA_INIT)");
  responder->first_message = bytes_of ("HDR, SAr1, KEr, Nr (the responder's IKE_SA_INIT)");
  derive_side (initiator, dh_i, ke_r, initiator->nonce, responder->nonce, spi_i, spi_r);
  derive_side (responder, dh_r, ke_i, initiator->nonce, responder->nonce, spi_i, spi_r);
}

static const guint8 id_i[] = { IKE_ID_FQDN, 0, 0, 0, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };
static const guint8 id_r[] = { IKE_ID_FQDN, 0, 0, 0, 'b', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };

typedef enum
{
  AUTH_PSK,
  AUTH_NULL,
} Method;

/* The initiator's AUTH (§2.15: its first message, Nr, SK_pi, IDi). */
static GBytes *
initiator_auth (Method method, Party *me, Party *peer, const char *psk, const guint8 *id,
                gsize id_len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) octets = NULL;
  GBytes *auth;

  octets = ike_auth_signed_octets (IKE_PRF_HMAC_SHA2_256, me->keys.sk_pi, me->first_message,
                                   peer->nonce, id, id_len, &error);
  g_assert_no_error (error);
  auth = method == AUTH_PSK ? ike_auth_psk (IKE_PRF_HMAC_SHA2_256, (const guint8 *) psk,
                                            strlen (psk), octets, &error)
                            : ike_auth_null (IKE_PRF_HMAC_SHA2_256, me->keys.sk_pi, octets, &error);
  g_assert_no_error (error);
  return auth;
}

/* The responder's view: it recomputes the initiator's AUTH from the
 * initiator's message, its own Nr, its own copy of SK_pi and the received
 * IDi, then compares. */
static gboolean
responder_verifies (Method method, Party *me, Party *peer, const char *psk, GBytes *received,
                    const guint8 *id, gsize id_len, GError **error)
{
  g_autoptr (GBytes) octets = NULL;
  g_autoptr (GBytes) expected = NULL;

  octets = ike_auth_signed_octets (IKE_PRF_HMAC_SHA2_256, me->keys.sk_pi, peer->first_message,
                                   me->nonce, id, id_len, error);
  g_assert_nonnull (octets);
  expected = method == AUTH_PSK
                 ? ike_auth_psk (IKE_PRF_HMAC_SHA2_256, (const guint8 *) psk, strlen (psk), octets,
                                 error)
                 : ike_auth_null (IKE_PRF_HMAC_SHA2_256, me->keys.sk_pi, octets, error);
  g_assert_nonnull (expected);
  return ike_auth_verify (expected, g_bytes_get_data (received, NULL), g_bytes_get_size (received),
                          error);
}

static const char good_psk[] = "Tr0ub4dor&3-horse!stapleX";

static void
check_round_trip (Method method)
{
  g_auto (Party) initiator = { 0 };
  g_auto (Party) responder = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth = NULL;

  set_up_parties (&initiator, &responder);
  auth = initiator_auth (method, &initiator, &responder, good_psk, id_i, sizeof id_i);
  g_assert_cmpuint (g_bytes_get_size (auth), ==, 32);
  g_assert_true (responder_verifies (method, &responder, &initiator, good_psk, auth, id_i,
                                     sizeof id_i, &error));
  g_assert_no_error (error);
}

static void
test_psk_round_trip (void)
{
  check_round_trip (AUTH_PSK);
}

static void
test_null_round_trip (void)
{
  check_round_trip (AUTH_NULL);
}

static void
assert_auth_failed (gboolean ok, GError *error)
{
  g_assert_false (ok);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_AUTH_FAILED);
}

/* What an attacker could change, each alone, makes the check fail. */
static void
check_negative (Method method)
{
  g_auto (Party) initiator = { 0 };
  g_auto (Party) responder = { 0 };
  g_autoptr (GBytes) auth = NULL;
  g_autoptr (GBytes) other_direction = NULL;
  gsize len;
  g_autofree guint8 *flipped = NULL;
  gboolean ok;

  set_up_parties (&initiator, &responder);
  auth = initiator_auth (method, &initiator, &responder, good_psk, id_i, sizeof id_i);
  {
    /* Another identity than the one authenticated. */
    g_autoptr (GError) error = NULL;

    ok = responder_verifies (method, &responder, &initiator, good_psk, auth, id_r, sizeof id_r,
                             &error);
    assert_auth_failed (ok, error);
  }
  if (method == AUTH_PSK)
    {
      /* Another PSK. */
      g_autoptr (GError) error = NULL;

      ok = responder_verifies (method, &responder, &initiator, "Tr0ub4dor&3-horse!stapleY", auth,
                               id_i, sizeof id_i, &error);
      assert_auth_failed (ok, error);
    }
  {
    /* A flipped bit, and a truncated value. */
    g_autoptr (GError) error = NULL;
    g_autoptr (GError) error2 = NULL;
    g_autoptr (GBytes) bad = NULL;
    g_autoptr (GBytes) short_auth = g_bytes_new_from_bytes (auth, 0, 31);

    flipped = g_bytes_unref_to_data (g_bytes_ref (auth), &len);
    flipped[len / 2] ^= 0x10;
    bad = g_bytes_new (flipped, len);
    ok = responder_verifies (method, &responder, &initiator, good_psk, bad, id_i, sizeof id_i,
                             &error);
    assert_auth_failed (ok, error);
    ok = responder_verifies (method, &responder, &initiator, good_psk, short_auth, id_i,
                             sizeof id_i, &error2);
    assert_auth_failed (ok, error2);
  }
  /* Keyed with SK_pr, as the responder's own AUTH is, instead of SK_pi: the
   * two directions' AUTH values cannot stand in for each other. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) octets = NULL;

    octets = ike_auth_signed_octets (IKE_PRF_HMAC_SHA2_256, initiator.keys.sk_pr,
                                     initiator.first_message, responder.nonce, id_i, sizeof id_i,
                                     &error);
    g_assert_no_error (error);
    other_direction
        = method == AUTH_PSK
              ? ike_auth_psk (IKE_PRF_HMAC_SHA2_256, (const guint8 *) good_psk, strlen (good_psk),
                              octets, &error)
              : ike_auth_null (IKE_PRF_HMAC_SHA2_256, initiator.keys.sk_pr, octets, &error);
    g_assert_no_error (error);
    ok = responder_verifies (method, &responder, &initiator, good_psk, other_direction, id_i,
                             sizeof id_i, &error);
    assert_auth_failed (ok, error);
  }
}

static void
test_psk_negative (void)
{
  check_negative (AUTH_PSK);
}

static void
test_null_negative (void)
{
  check_negative (AUTH_NULL);
}

/* ---- PSK strength (DESIGN.md §6) ---- */

static void
assert_weak (const char *psk, const char *reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) octets = bytes_of ("octets");
  g_autoptr (GBytes) auth = NULL;

  g_assert_false (ike_psk_check_strength ((const guint8 *) psk, strlen (psk), &error));
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_WEAK_SECRET);
  g_assert_nonnull (strstr (error->message, reason));
  /* The message names the reason, never the secret. */
  if (*psk != '\0')
    g_assert_null (strstr (error->message, psk));
  g_clear_error (&error);
  /* ike_auth_psk refuses it by itself. */
  auth = ike_auth_psk (IKE_PRF_HMAC_SHA2_256, (const guint8 *) psk, strlen (psk), octets, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_WEAK_SECRET);
  g_assert_null (auth);
}

static void
assert_strong (const char *psk)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ike_psk_check_strength ((const guint8 *) psk, strlen (psk), &error));
  g_assert_no_error (error);
}

static void
test_psk_strength (void)
{
  assert_weak ("", "too short");
  assert_weak ("n7#Qe2!vLw9@Zr4$Tb6", "too short"); /* 19 bytes */
  assert_strong ("n7#Qe2!vLw9@Zr4$Tb6^");           /* 20 bytes, 20 symbols */
  assert_weak ("aaaaaaaaaaaaaaaaaaaaaaaa", "too predictable");
  assert_weak ("abababababababababababab", "too predictable");
  assert_weak ("aabbccddeeffgghhiijj", "too predictable");         /* log2 10 = 3.32 */
  assert_weak ("correct horse battery staple", "too predictable"); /* 3.49 */
  assert_strong ("0123456789abcdefghij");                          /* log2 20 = 4.32 */
  assert_strong ("Tr0ub4dor&3-horse!stapleX");
  /* Characters, not bytes: four of each of six letters is log2 6 = 2.58 bits
   * per character, though its UTF-8 bytes would score 2.81. */
  assert_weak ("ääääbbbbccccddddeeeeffff", "too predictable");
  assert_strong ("пароль-из-кириллицы-1234");
}

static void
test_entropy (void)
{
  /* H = log2 n for n equally frequent symbols. */
  g_assert_cmpfloat_with_epsilon (ike_psk_entropy ((const guint8 *) "abcd", 4), 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ike_psk_entropy ((const guint8 *) "0123456789abcdefghij", 20),
                                  4.321928094887362, 1e-12);
  g_assert_cmpfloat_with_epsilon (ike_psk_entropy ((const guint8 *) "aaaa", 4), 0.0, 1e-12);
  /* 3 of one symbol, 1 of another: -(3/4 log2 3/4 + 1/4 log2 1/4). */
  g_assert_cmpfloat_with_epsilon (ike_psk_entropy ((const guint8 *) "aaab", 4), 0.811278124459133,
                                  1e-12);
  /* Not UTF-8: counted per byte. */
  g_assert_cmpfloat_with_epsilon (ike_psk_entropy ((const guint8 *) "\xff\xfe", 2), 1.0, 1e-12);
}

/* ---- Random and secrets ---- */

static void
test_random (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) a = ike_random_nonce (32, &error);
  g_autoptr (GBytes) b = ike_random_nonce (32, &error);
  g_autoptr (GBytes) small = NULL;
  g_autoptr (GBytes) big = NULL;
  guint8 spi[8];
  static const guint8 zero[8] = { 0 };

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (a), ==, 32);
  g_assert_false (g_bytes_equal (a, b));
  small = ike_random_nonce (15, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (small);
  g_clear_error (&error);
  big = ike_random_nonce (257, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID);
  g_assert_null (big);
  g_clear_error (&error);
  g_assert_true (ike_random_ike_spi (spi, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (spi, zero, sizeof spi) != 0);
}

static void
test_secret (void)
{
  g_autoptr (IkeSecret) secret = ike_secret_new (16);
  guint8 buffer[8];

  g_assert_cmpuint (secret->len, ==, 16);
  for (gsize i = 0; i < secret->len; i++)
    g_assert_cmpuint (secret->data[i], ==, 0);
  memset (buffer, 0xa5, sizeof buffer);
  ike_memzero (buffer, sizeof buffer);
  for (gsize i = 0; i < sizeof buffer; i++)
    g_assert_cmpuint (buffer[i], ==, 0);
  ike_secret_free (NULL);
}

int
main (int argc, char **argv)
{
  crypto_test_init (&argc, &argv);
  g_test_add_func ("/ike-crypto/auth/signed-octets", test_signed_octets);
  g_test_add_func ("/ike-crypto/auth/psk-known-answer", test_psk_known_answer);
  g_test_add_func ("/ike-crypto/auth/psk-round-trip", test_psk_round_trip);
  g_test_add_func ("/ike-crypto/auth/psk-negative", test_psk_negative);
  g_test_add_func ("/ike-crypto/auth/null-round-trip", test_null_round_trip);
  g_test_add_func ("/ike-crypto/auth/null-negative", test_null_negative);
  g_test_add_func ("/ike-crypto/auth/psk-strength", test_psk_strength);
  g_test_add_func ("/ike-crypto/auth/entropy", test_entropy);
  g_test_add_func ("/ike-crypto/random/values", test_random);
  g_test_add_func ("/ike-crypto/random/secret", test_secret);
  return crypto_test_run ();
}
