/* Negotiation back to back: proposals, INVALID_KE retry, cookies, traffic
 * selector narrowing, transport mode, childless IKE SAs. */
#include "harness.h"

#include <nss.h>
#include <string.h>

#define PSK "correct horse battery staple 42!"
#define RUN (10 * G_TIME_SPAN_MINUTE)

static TestWire *
psk_wire (IkeConfig **a, IkeConfig **b)
{
  *a = test_config_psk ("a", "a.example", PSK);
  *b = test_config_psk ("b", "b.example", PSK);
  return test_wire_new (*a, *b, 1);
}

/* How many IKE_SA_INIT requests a sent. */
static guint
count_init_requests (TestPeer *peer)
{
  guint n = 0;

  for (guint i = 0; i < peer->sent->len; i++)
    {
      const guint8 *d = g_bytes_get_data (peer->sent->pdata[i], NULL);

      n += d[18] == IKE_EXCHANGE_SA_INIT && !(d[19] & IKE_FLAG_RESPONSE);
    }
  return n;
}

static void
test_no_proposal_chosen (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;
  const IkeEvent *ev;

  test_config_set_proposals (a, "aes_gcm16_256-prfsha256-x25519", NULL);
  test_config_set_proposals (b, "aes256-sha384-ecp384", NULL);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_NO_PROPOSAL_CHOSEN);
  g_assert_true (ev->notify_from_peer);
  /* The responder kept nothing. */
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
  g_assert_cmpuint (wire->b.events->len, ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
}

static void
test_invalid_ke_retry (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  /* a guesses X25519 first; b only takes P-256, which a also offers. */
  test_config_set_proposals (a, "aes_gcm16_256-prfsha256-x25519-ecp256", NULL);
  test_config_set_proposals (b, "aes_gcm16_256-prfsha256-ecp256", NULL);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  g_assert_cmpuint (test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->ike.ke, ==, IKE_KE_ECP256);
  g_assert_cmpuint (count_init_requests (&wire->a), ==, 2);
  test_assert_children_match (wire);
}

static void
test_invalid_ke_unusable (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  /* b wants ECP-384 with a suite a also offers, but a offers no such group
   * for it: NO_PROPOSAL_CHOSEN, not an endless retry. */
  test_config_set_proposals (a, "aes_gcm16_256-prfsha256-x25519", NULL);
  test_config_set_proposals (b, "aes_gcm16_256-prfsha256-ecp384", NULL);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED));
  g_assert_cmpuint (count_init_requests (&wire->a), ==, 1);
}

static void
test_cookie (void)
{
  g_autoptr (IkeConfig) a = NULL;
  g_autoptr (IkeConfig) b = NULL;
  g_autoptr (TestWire) wire = psk_wire (&a, &b);

  ike_engine_set_half_open (wire->b.engine, 0, 100, 30 * G_TIME_SPAN_SECOND);
  test_wire_initiate (wire);
  /* Before the initiator answers the COOKIE, the responder holds nothing. */
  test_wire_run (wire, 0);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  g_assert_cmpuint (count_init_requests (&wire->a), ==, 2);
  g_assert_cmpuint (wire->b.n_lookups, ==, 2); /* IKE_SA_INIT with cookie, IKE_AUTH */
  test_assert_children_match (wire);
}

static void
test_cookie_stateless (void)
{
  g_autoptr (IkeConfig) a = NULL;
  g_autoptr (IkeConfig) b = NULL;
  g_autoptr (TestWire) wire = psk_wire (&a, &b);
  g_autoptr (GBytes) first = NULL;

  ike_engine_set_half_open (wire->b.engine, 0, 100, 30 * G_TIME_SPAN_SECOND);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  /* A replay of the first request (without a cookie) makes b answer with a
   * COOKIE again, keeping nothing. */
  first = g_bytes_ref (wire->a.sent->pdata[0]);
  test_wire_inject (wire, &wire->b, first);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  g_assert_cmpuint (ike_engine_count_half_open (wire->b.engine), ==, 0);
}

static void
test_half_open_expire (void)
{
  g_autoptr (IkeConfig) a = NULL;
  g_autoptr (IkeConfig) b = NULL;
  g_autoptr (TestWire) wire = psk_wire (&a, &b);
  g_autoptr (GBytes) init = NULL;

  test_wire_initiate (wire);
  /* Only the IKE_SA_INIT request reaches b; then the initiator goes quiet. */
  {
    IkeOutput out;

    while (ike_engine_next_output (wire->a.engine, &out))
      {
        if (out.kind == IKE_OUTPUT_SEND && init == NULL)
          init = g_bytes_ref (out.data);
        ike_output_clear (&out);
      }
  }
  g_assert_nonnull (init);
  ike_engine_free (wire->a.engine);
  wire->a.engine = ike_engine_new (NULL, NULL, NULL);
  test_wire_inject (wire, &wire->b, init);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  test_wire_run (wire, G_TIME_SPAN_MINUTE);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
  g_assert_cmpuint (wire->b.events->len, ==, 0);
}

static void
run_ts (const char *a_local, const char *a_local_end, const char *a_remote,
        const char *a_remote_end, const char *b_local, const char *b_local_end, TestWire **out_wire)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (GError) error = NULL;
  IkeTs ts;

  test_ts_v4 (&ts, a_local, a_local_end);
  g_assert_true (ike_config_add_ts (a, TRUE, &ts, &error));
  g_assert_true (ike_config_add_ts (b, FALSE, &ts, &error));
  test_ts_v4 (&ts, a_remote, a_remote_end);
  g_assert_true (ike_config_add_ts (a, FALSE, &ts, &error));
  test_ts_v4 (&ts, b_local, b_local_end);
  g_assert_true (ike_config_add_ts (b, TRUE, &ts, &error));
  *out_wire = test_wire_new (a, b, 1);
  test_wire_initiate (*out_wire);
  test_wire_run (*out_wire, RUN);
}

static void
test_ts_narrowing (void)
{
  g_autoptr (TestWire) wire = NULL;
  const IkeKernelRequest *k;
  IkeTs want;

  /* a asks for 10.2.0.0/16 behind b; b only offers 10.2.1.0/24. */
  run_ts ("10.1.0.0", "10.1.255.255", "10.2.0.0", "10.2.255.255", "10.2.1.0", "10.2.1.255", &wire);
  test_assert_children_match (wire);
  k = test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL);
  test_ts_v4 (&want, "10.2.1.0", "10.2.1.255");
  g_assert_cmpuint (k->n_ts_remote, ==, 1);
  g_assert_true (memcmp (&k->ts_remote[0], &want, sizeof want) == 0);
  test_ts_v4 (&want, "10.1.0.0", "10.1.255.255");
  g_assert_true (memcmp (&k->ts_local[0], &want, sizeof want) == 0);
}

static void
test_ts_unacceptable (void)
{
  g_autoptr (TestWire) wire = NULL;
  const IkeEvent *ev;

  run_ts ("10.1.0.0", "10.1.255.255", "10.2.0.0", "10.2.255.255", "10.9.0.0", "10.9.0.255", &wire);
  /* The IKE SA is up, the Child SA is not. */
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  ev = test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_TS_UNACCEPTABLE);
  g_assert_true (ev->notify_from_peer);
  ev = test_peer_event (&wire->b, IKE_EVENT_CHILD_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_TS_UNACCEPTABLE);
  g_assert_cmpuint (wire->a.kernel->len + wire->b.kernel->len, ==, 0);
}

static void
test_child_no_proposal (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  test_config_set_proposals (a, NULL, "aes_gcm16_256");
  test_config_set_proposals (b, NULL, "aes128-sha256");
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_cmpuint (test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED)->notify, ==,
                    IKE_N_NO_PROPOSAL_CHOSEN);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_CHILD_FAILED));
  g_assert_cmpuint (wire->a.kernel->len + wire->b.kernel->len, ==, 0);
}

static void
test_transport (void)
{
  g_autoptr (IkeConfig) a = NULL;
  g_autoptr (IkeConfig) b = NULL;
  g_autoptr (TestWire) wire = NULL;

  a = test_config_psk ("a", "a.example", PSK);
  b = test_config_psk ("b", "b.example", PSK);
  ike_config_set_mode (a, IKE_MODE_TRANSPORT);
  ike_config_set_mode (b, IKE_MODE_TRANSPORT);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  test_assert_children_match (wire);
  g_assert_cmpint (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL)->mode, ==, IKE_MODE_TRANSPORT);
  g_assert_cmpint (test_peer_event (&wire->b, IKE_EVENT_CHILD_UP)->mode, ==, IKE_MODE_TRANSPORT);
}

static void
test_transport_refused (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  const IkeEvent *ev;
  const IkeKernelRequest *installed, *removed;

  /* a asked for transport mode and b answers with tunnel mode: a refuses
   * the Child SA (the IKE SA stays) and asks b to delete what b installed. */
  ike_config_set_mode (a, IKE_MODE_TRANSPORT);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  ev = test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->reason, "transport"));
  g_assert_cmpuint (wire->a.kernel->len, ==, 0);
  installed = test_peer_kernel (&wire->b, IKE_KERNEL_INSTALL);
  removed = test_peer_kernel (&wire->b, IKE_KERNEL_REMOVE);
  g_assert_nonnull (installed);
  g_assert_nonnull (removed);
  g_assert_cmpint (installed->mode, ==, IKE_MODE_TUNNEL);
  g_assert_cmpuint (removed->spi_in, ==, installed->spi_in);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_CHILD_DOWN));
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_DOWN));
}

static void
test_transport_fallback (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  /* as above, but a accepts a tunnel answer (an OE host pair): both
   * install the Child SA in tunnel mode */
  ike_config_set_mode (a, IKE_MODE_TRANSPORT);
  ike_config_set_accept_tunnel (a, TRUE);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  test_assert_children_match (wire);
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED));
  g_assert_cmpint (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL)->mode, ==, IKE_MODE_TUNNEL);
  g_assert_cmpint (test_peer_event (&wire->a, IKE_EVENT_CHILD_UP)->mode, ==, IKE_MODE_TUNNEL);
  g_assert_cmpint (test_peer_kernel (&wire->b, IKE_KERNEL_INSTALL)->mode, ==, IKE_MODE_TUNNEL);
  g_assert_null (test_peer_kernel (&wire->b, IKE_KERNEL_REMOVE));
}

static void
test_childless (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;

  ike_config_set_childless (a, TRUE);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  g_assert_cmpuint (wire->a.events->len, ==, 1);
  g_assert_cmpuint (wire->b.events->len, ==, 1);
  g_assert_cmpuint (wire->a.kernel->len + wire->b.kernel->len, ==, 0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  g_test_add_func ("/engine/init/no-proposal-chosen", test_no_proposal_chosen);
  g_test_add_func ("/engine/init/invalid-ke-retry", test_invalid_ke_retry);
  g_test_add_func ("/engine/init/invalid-ke-unusable", test_invalid_ke_unusable);
  g_test_add_func ("/engine/init/cookie", test_cookie);
  g_test_add_func ("/engine/init/cookie-stateless", test_cookie_stateless);
  g_test_add_func ("/engine/init/half-open-expire", test_half_open_expire);
  g_test_add_func ("/engine/child/ts-narrowing", test_ts_narrowing);
  g_test_add_func ("/engine/child/ts-unacceptable", test_ts_unacceptable);
  g_test_add_func ("/engine/child/no-proposal-chosen", test_child_no_proposal);
  g_test_add_func ("/engine/child/transport", test_transport);
  g_test_add_func ("/engine/child/transport-refused", test_transport_refused);
  g_test_add_func ("/engine/child/transport-fallback", test_transport_fallback);
  g_test_add_func ("/engine/child/childless", test_childless);
  status = g_test_run ();
  NSS_Shutdown ();
  return status;
}
