/* IKE_SA_INIT + IKE_AUTH back to back: every authentication method, each
 * direction configured on its own, and the ways authentication fails. */
#include "harness.h"

#include <nss.h>
#include <string.h>

#define PSK "correct horse battery staple 42!"
#define RUN (10 * G_TIME_SPAN_MINUTE)

typedef struct
{
  SECKEYPrivateKey *priv;
  SECKEYPublicKey *pub;
} TestKeyPair;

static TestKeyPair ec_key, ec_other, rsa_key;

static void
assert_up (TestWire *wire)
{
  const IkeEvent *a = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  const IkeEvent *b = test_peer_event (&wire->b, IKE_EVENT_IKE_UP);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a->initiator);
  g_assert_false (b->initiator);
  g_assert_true (memcmp (&a->ike, &b->ike, sizeof a->ike) == 0);
  g_assert_cmpuint (a->ike.encr, !=, 0);
  g_assert_cmpuint (a->ike.prf, !=, 0);
  g_assert_cmpuint (a->ike.ke, !=, 0);
  g_assert_cmpint (a->local_auth, ==, b->remote_auth);
  g_assert_cmpint (a->remote_auth, ==, b->local_auth);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_FAILED), ==, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_FAILED), ==, 0);
}

static void
assert_child_up (TestWire *wire)
{
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_CHILD_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_CHILD_UP));
  test_assert_children_match (wire);
}

static void
test_psk (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire);
  assert_child_up (wire);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  g_assert_true (ev->authenticated);
  g_assert_cmpint (ev->local_auth, ==, IKE_AUTH_SHARED_KEY);
  g_assert_cmpint (ev->remote_id_type, ==, IKE_ID_FQDN);
  g_assert_cmpmem (g_bytes_get_data (ev->remote_id, NULL), g_bytes_get_size (ev->remote_id),
                   "b.example", 9);
  g_assert_cmpstr (ev->config, ==, "a");
  /* The default proposals: AES-GCM-16-256, X25519. */
  g_assert_cmpuint (ev->ike.encr, ==, IKE_ENCR_AES_GCM_16);
  g_assert_cmpuint (ev->ike.ke, ==, IKE_KE_CURVE25519);
  g_assert_true (test_peer_event (&wire->b, IKE_EVENT_IKE_UP)->authenticated);
  g_assert_cmpuint (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL)->mode, ==, IKE_MODE_TUNNEL);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 1);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
}

static void
test_psk_cbc (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  test_config_set_proposals (a, "aes256-sha256-modp3072", "aes128-sha256");
  test_config_set_proposals (b, "aes256-sha256-modp3072", "aes128-sha256");
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire);
  assert_child_up (wire);
  g_assert_cmpuint (test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->ike.ke, ==, IKE_KE_MODP3072);
  g_assert_nonnull (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL)->integ_in);
}

static IkeConfig *
config_null (const char *name)
{
  g_autoptr (GError) error = NULL;
  IkeConfig *config = ike_config_new (name);

  g_assert_true (ike_config_set_local_auth (config, IKE_AUTH_NULL, NULL, &error));
  g_assert_true (ike_config_set_remote_auth (config, IKE_AUTH_NULL, NULL, &error));
  g_assert_no_error (error);
  return config;
}

static void
test_null (void)
{
  g_autoptr (IkeConfig) a = config_null ("a");
  g_autoptr (IkeConfig) b = config_null ("b");
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire);
  assert_child_up (wire);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  g_assert_false (ev->authenticated);
  g_assert_cmpint (ev->remote_auth, ==, IKE_AUTH_NULL);
  g_assert_cmpint (ev->remote_id_type, ==, IKE_ID_NULL);
  g_assert_cmpint (ev->local_id_type, ==, IKE_ID_NULL);
  g_assert_false (test_peer_event (&wire->b, IKE_EVENT_IKE_UP)->authenticated);
}

/* The "encrypt like TLS" form of OE: an anonymous client, a server that
 * signs with a raw public key the client knows. */
static void
run_null_to_sig (TestKeyPair *server_key, TestKeyPair *expected_key, gboolean expect_up)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeConfig) a = ike_config_new ("client");
  g_autoptr (IkeConfig) b = ike_config_new ("server");
  g_autoptr (TestWire) wire = NULL;
  IkeIdentity server_id = { IKE_ID_FQDN, (const guint8 *) "server.example", 14 };
  const IkeEvent *ev;

  g_assert_true (ike_config_set_local_auth (a, IKE_AUTH_NULL, NULL, &error));
  g_assert_true (ike_config_set_remote_auth (a, IKE_AUTH_DIGITAL_SIGNATURE, &server_id, &error));
  g_assert_true (ike_config_set_peer_public_key (a, expected_key->pub, &error));
  g_assert_true (ike_config_set_local_auth (b, IKE_AUTH_DIGITAL_SIGNATURE, &server_id, &error));
  g_assert_true (ike_config_set_remote_auth (b, IKE_AUTH_NULL, NULL, &error));
  g_assert_true (ike_config_set_private_key (b, server_key->priv, &error));
  g_assert_no_error (error);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  if (!expect_up)
    {
      ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
      g_assert_nonnull (ev);
      g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
      g_assert_false (ev->notify_from_peer);
      g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
      g_assert_null (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL));
      /* The server heard about it (§2.21.2) and took its SA down. */
      ev = test_peer_event (&wire->b, IKE_EVENT_IKE_DOWN);
      g_assert_nonnull (ev);
      g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
      g_assert_true (ev->notify_from_peer);
      g_assert_nonnull (test_peer_kernel (&wire->b, IKE_KERNEL_REMOVE));
      g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
      return;
    }
  assert_up (wire);
  assert_child_up (wire);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  g_assert_true (ev->authenticated);
  g_assert_cmpint (ev->local_auth, ==, IKE_AUTH_NULL);
  g_assert_cmpint (ev->remote_auth, ==, IKE_AUTH_DIGITAL_SIGNATURE);
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_UP);
  g_assert_false (ev->authenticated);
  g_assert_cmpint (ev->remote_id_type, ==, IKE_ID_NULL);
}

static void
test_null_to_ecdsa (void)
{
  run_null_to_sig (&ec_key, &ec_key, TRUE);
}

static void
test_null_to_rsa (void)
{
  run_null_to_sig (&rsa_key, &rsa_key, TRUE);
}

static void
test_wrong_public_key (void)
{
  run_null_to_sig (&ec_key, &ec_other, FALSE);
}

static void
test_psk_one_way_sig_other (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeConfig) a = ike_config_new ("a");
  g_autoptr (IkeConfig) b = ike_config_new ("b");
  g_autoptr (TestWire) wire = NULL;
  IkeIdentity ida = { IKE_ID_FQDN, (const guint8 *) "a.example", 9 };
  IkeIdentity idb = { IKE_ID_FQDN, (const guint8 *) "b.example", 9 };

  /* a proves itself with the PSK, b with an ECDSA signature. */
  g_assert_true (ike_config_set_local_auth (a, IKE_AUTH_SHARED_KEY, &ida, &error));
  g_assert_true (ike_config_set_psk (a, (const guint8 *) PSK, strlen (PSK), &error));
  g_assert_true (ike_config_set_remote_auth (a, IKE_AUTH_DIGITAL_SIGNATURE, &idb, &error));
  g_assert_true (ike_config_set_peer_public_key (a, ec_key.pub, &error));
  g_assert_true (ike_config_set_local_auth (b, IKE_AUTH_DIGITAL_SIGNATURE, &idb, &error));
  g_assert_true (ike_config_set_private_key (b, ec_key.priv, &error));
  g_assert_true (ike_config_set_remote_auth (b, IKE_AUTH_SHARED_KEY, &ida, &error));
  g_assert_true (ike_config_set_psk (b, (const guint8 *) PSK, strlen (PSK), &error));
  g_assert_no_error (error);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  assert_up (wire);
  assert_child_up (wire);
  g_assert_cmpint (test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->local_auth, ==,
                   IKE_AUTH_SHARED_KEY);
  g_assert_cmpint (test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->remote_auth, ==,
                   IKE_AUTH_DIGITAL_SIGNATURE);
}

static void
test_wrong_psk (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", "another rather long key 99!");
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  /* b checks a's AUTH first: b detects it and tells a. */
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
  g_assert_false (ev->notify_from_peer);
  g_assert_nonnull (strstr (ev->reason, "initiator failed authentication"));
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
  g_assert_true (ev->notify_from_peer);
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_null (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  g_assert_cmpuint (wire->a.kernel->len + wire->b.kernel->len, ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
}

static GBytes *
sent_of (TestPeer *peer, guint8 exchange, gboolean response)
{
  for (guint i = 0; i < peer->sent->len; i++)
    {
      const guint8 *d = g_bytes_get_data (peer->sent->pdata[i], NULL);

      if (d[18] == exchange && !!(d[19] & IKE_FLAG_RESPONSE) == response)
        return peer->sent->pdata[i];
    }
  return NULL;
}

/* A retransmitted IKE_AUTH after AUTHENTICATION_FAILED gets the same answer
 * again (the first may have been lost), until the tombstone expires. */
static void
test_auth_failed_replayed (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", "another rather long key 99!");
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  GBytes *request, *answer;
  guint b_sent;

  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_FAILED));
  request = sent_of (&wire->a, IKE_EXCHANGE_AUTH, FALSE);
  answer = sent_of (&wire->b, IKE_EXCHANGE_AUTH, TRUE);
  g_assert_nonnull (answer);
  b_sent = wire->b.n_sent;
  test_wire_inject (wire, &wire->b, request);
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent + 1);
  g_assert_true (g_bytes_equal (wire->b.sent->pdata[b_sent], answer));
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_FAILED), ==, 1);
  g_assert_cmpuint (ike_engine_count_half_open (wire->b.engine), ==, 0);
  /* Gone after the half-open timeout (30 s). */
  test_wire_advance (wire, 31 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
  b_sent = wire->b.n_sent;
  test_wire_inject (wire, &wire->b, request);
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent);
}

/* a restarts and connects again with INITIAL_CONTACT: b drops the SA a
 * forgot.  Without a restart a second SA comes without it, and b keeps
 * both. */
static void
test_initial_contact (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  IkeSaHandle first;
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  first = test_peer_event (&wire->b, IKE_EVENT_IKE_UP)->sa;
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_UP), ==, 2);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 2);
  g_assert_null (test_peer_event (&wire->b, IKE_EVENT_IKE_DOWN));

  test_peer_restart (&wire->a);
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_UP), ==, 3);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_DOWN), ==, 2);
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_DOWN);
  g_assert_cmpuint (ev->sa, ==, first);
  g_assert_cmpuint (ev->notify, ==, IKE_N_INITIAL_CONTACT);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_DOWN), ==, 2);
}

static void
test_weak_psk (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeConfig) config = ike_config_new ("weak");
  g_autoptr (IkeEngine) engine = ike_engine_new (NULL, NULL, NULL);
  IkeIdentity id = { IKE_ID_FQDN, (const guint8 *) "a.example", 9 };
  IkeEnds ends = { 0 };

  g_assert_false (ike_config_set_psk (config, (const guint8 *) "password", 8, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_WEAK);
  g_clear_error (&error);
  g_assert_false (
      ike_config_set_psk (config, (const guint8 *) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 30, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_WEAK);
  g_clear_error (&error);
  /* Without an accepted PSK the config cannot be used: nothing is sent. */
  g_assert_true (ike_config_set_local_auth (config, IKE_AUTH_SHARED_KEY, &id, &error));
  g_assert_true (ike_config_set_remote_auth (config, IKE_AUTH_SHARED_KEY, NULL, &error));
  g_assert_false (ike_engine_initiate (engine, 0, config, &ends, NULL, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID);
  g_assert_cmpuint (ike_engine_count_sas (engine), ==, 0);
  {
    IkeOutput out;

    g_assert_false (ike_engine_next_output (engine, &out));
  }
}

static void
test_id_mismatch (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeConfig) a = test_config_psk ("a", "mallory.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;
  IkeIdentity alice = { IKE_ID_FQDN, (const guint8 *) "alice.example", 13 };
  const IkeEvent *ev;

  g_assert_true (ike_config_set_remote_auth (b, IKE_AUTH_SHARED_KEY, &alice, &error));
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  ev = test_peer_event (&wire->b, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->reason, "identity"));
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_AUTHENTICATION_FAILED);
  g_assert_cmpuint (wire->a.kernel->len + wire->b.kernel->len, ==, 0);
}

/* The responder's lookup is asked again with the peer's identity and may
 * refuse it. */
static IkeConfig *
refuse_by_id (const IkeEnds *ends, const IkeIdentity *peer, gpointer user_data)
{
  return peer == NULL ? ike_config_ref (user_data) : NULL;
}

static void
test_lookup_refuses_id (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  g_autoptr (GError) error = NULL;

  ike_engine_free (wire->b.engine);
  wire->b.engine = ike_engine_new (refuse_by_id, b, &error);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_cmpuint (test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED)->notify, ==,
                    IKE_N_AUTHENTICATION_FAILED);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_FAILED));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  test_nss_keys (&ec_key.priv, &ec_key.pub, FALSE);
  test_nss_keys (&ec_other.priv, &ec_other.pub, FALSE);
  test_nss_keys (&rsa_key.priv, &rsa_key.pub, TRUE);
  g_test_add_func ("/engine/auth/psk", test_psk);
  g_test_add_func ("/engine/auth/psk-aes-cbc-modp", test_psk_cbc);
  g_test_add_func ("/engine/auth/null", test_null);
  g_test_add_func ("/engine/auth/null-to-ecdsa", test_null_to_ecdsa);
  g_test_add_func ("/engine/auth/null-to-rsa", test_null_to_rsa);
  g_test_add_func ("/engine/auth/psk-one-way-signature-other", test_psk_one_way_sig_other);
  g_test_add_func ("/engine/auth/wrong-psk", test_wrong_psk);
  g_test_add_func ("/engine/auth/weak-psk", test_weak_psk);
  g_test_add_func ("/engine/auth/auth-failed-replayed", test_auth_failed_replayed);
  g_test_add_func ("/engine/auth/initial-contact", test_initial_contact);
  g_test_add_func ("/engine/auth/wrong-public-key", test_wrong_public_key);
  g_test_add_func ("/engine/auth/id-mismatch", test_id_mismatch);
  g_test_add_func ("/engine/auth/lookup-refuses-id", test_lookup_refuses_id);
  status = g_test_run ();
  SECKEY_DestroyPrivateKey (ec_key.priv);
  SECKEY_DestroyPublicKey (ec_key.pub);
  SECKEY_DestroyPrivateKey (ec_other.priv);
  SECKEY_DestroyPublicKey (ec_other.pub);
  SECKEY_DestroyPrivateKey (rsa_key.priv);
  SECKEY_DestroyPublicKey (rsa_key.pub);
  NSS_Shutdown ();
  return status;
}
