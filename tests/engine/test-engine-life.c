/* An IKE SA's life back to back: lossy channels, retransmission limits,
 * replayed messages, Delete from each side, liveness checks. */
#include "harness.h"

#include <nss.h>
#include <string.h>

#define PSK "correct horse battery staple 42!"
#define RUN (10 * G_TIME_SPAN_MINUTE)

static TestWire *
psk_wire (guint32 seed)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);

  ike_config_set_retransmit (a, 500 * G_TIME_SPAN_MILLISECOND, 10);
  ike_config_set_retransmit (b, 500 * G_TIME_SPAN_MILLISECOND, 10);
  return test_wire_new (a, b, seed);
}

static void
test_lossy (void)
{
  for (guint32 seed = 1; seed <= 20; seed++)
    {
      g_autoptr (TestWire) wire = psk_wire (seed);

      wire->drop = 0.3;
      wire->dup = 0.3;
      wire->reorder = TRUE;
      test_wire_initiate (wire);
      test_wire_run (wire, RUN);
      g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 1);
      g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_UP), ==, 1);
      g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 1);
      g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_UP), ==, 1);
      g_assert_cmpuint (wire->a.kernel->len, ==, 1);
      g_assert_cmpuint (wire->b.kernel->len, ==, 1);
      test_assert_children_match (wire);
    }
}

static void
test_black_hole (void)
{
  g_autoptr (TestWire) wire = psk_wire (1);
  const IkeEvent *ev;
  gint64 start = wire->now;

  wire->drop = 1.0;
  test_wire_initiate (wire);
  test_wire_run (wire, G_TIME_SPAN_HOUR);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_FAILED);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->reason, "retransmissions"));
  g_assert_cmpuint (ev->notify, ==, 0);
  /* 1 + 10 sends, back-off doubling from 0.5 s: 0.5 * (2^11 - 1) s. */
  g_assert_cmpuint (wire->a.n_sent, ==, 11);
  g_assert_cmpint (wire->now - start, ==, 500 * G_TIME_SPAN_MILLISECOND * 2047);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
  g_assert_cmpint (ike_engine_next_deadline (wire->a.engine), ==, G_MAXINT64);
}

/* Datagrams a sent, by exchange and direction. */
static void test_replay_run (TestWire *wire);

static GBytes *
find_sent (TestPeer *peer, guint8 exchange, gboolean response)
{
  for (guint i = 0; i < peer->sent->len; i++)
    {
      const guint8 *d = g_bytes_get_data (peer->sent->pdata[i], NULL);

      if (d[18] == exchange && !!(d[19] & IKE_FLAG_RESPONSE) == response)
        return peer->sent->pdata[i];
    }
  return NULL;
}

static void
test_replay (void)
{
  g_autoptr (TestWire) wire = psk_wire (1);

  ike_config_set_dpd (wire->a.config, 30 * G_TIME_SPAN_SECOND, IKE_PEER_GONE_CLEAR);
  test_replay_run (wire);
}

static void
test_replay_run (TestWire *wire)
{
  GBytes *auth_req, *init_req;
  guint a_events, b_events, b_sent;

  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  a_events = wire->a.events->len;
  b_events = wire->b.events->len;
  auth_req = find_sent (&wire->a, IKE_EXCHANGE_AUTH, FALSE);
  init_req = find_sent (&wire->a, IKE_EXCHANGE_SA_INIT, FALSE);

  /* The last request again: b re-sends its cached response, nothing else. */
  b_sent = wire->b.n_sent;
  test_wire_inject (wire, &wire->b, auth_req);
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent + 1);
  g_assert_true (
      g_bytes_equal (wire->b.sent->pdata[b_sent], find_sent (&wire->b, IKE_EXCHANGE_AUTH, TRUE)));

  /* After a liveness check (#2), the IKE_AUTH request (#1) is out of the
   * window: no answer at all.  Old responses and IKE_SA_INIT go nowhere. */
  wire->a.n_sent = 0;
  test_wire_run (wire, 40 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (wire->a.n_sent, ==, 1);
  b_sent = wire->b.n_sent;
  test_wire_inject (wire, &wire->b, auth_req);
  test_wire_inject (wire, &wire->a, find_sent (&wire->b, IKE_EXCHANGE_SA_INIT, TRUE));
  test_wire_inject (wire, &wire->a, find_sent (&wire->b, IKE_EXCHANGE_AUTH, TRUE));
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent);
  test_wire_inject (wire, &wire->b, init_req);
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->a.events->len, ==, a_events);
  g_assert_cmpuint (wire->b.events->len, ==, b_events);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 1);
  /* The replayed IKE_SA_INIT request names an SA that is up: b ignores it
   * rather than making a half-open SA that leads nowhere. */
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  g_assert_cmpuint (ike_engine_count_half_open (wire->b.engine), ==, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent);
  test_wire_run (wire, G_TIME_SPAN_MINUTE);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  g_assert_cmpuint (wire->b.events->len, ==, b_events);
}

static void
run_delete (gboolean from_initiator)
{
  g_autoptr (TestWire) wire = psk_wire (1);
  g_autoptr (GError) error = NULL;
  TestPeer *self = from_initiator ? &wire->a : &wire->b;
  TestPeer *other = from_initiator ? &wire->b : &wire->a;
  const IkeKernelRequest *install, *removed;
  const IkeEvent *ev;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  ev = test_peer_event (self, IKE_EVENT_IKE_UP);
  g_assert_nonnull (ev);
  g_assert_true (ike_engine_delete (self->engine, wire->now, ev->sa, &error));
  g_assert_no_error (error);
  test_wire_run (wire, RUN);
  for (TestPeer *p = &wire->a; p <= &wire->b; p++)
    {
      install = test_peer_kernel (p, IKE_KERNEL_INSTALL);
      removed = test_peer_kernel (p, IKE_KERNEL_REMOVE);
      g_assert_nonnull (removed);
      g_assert_cmpuint (removed->spi_in, ==, install->spi_in);
      g_assert_cmpuint (removed->spi_out, ==, install->spi_out);
      g_assert_null (removed->encr_in);
      g_assert_nonnull (test_peer_event (p, IKE_EVENT_CHILD_DOWN));
      ev = test_peer_event (p, IKE_EVENT_IKE_DOWN);
      g_assert_nonnull (ev);
      g_assert_false (ev->peer_gone);
      g_assert_cmpuint (ike_engine_count_sas (p->engine), ==, 0);
    }
  g_assert_nonnull (strstr (test_peer_event (self, IKE_EVENT_IKE_DOWN)->reason, "locally"));
  g_assert_nonnull (strstr (test_peer_event (other, IKE_EVENT_IKE_DOWN)->reason, "peer"));
}

static void
test_delete_initiator (void)
{
  run_delete (TRUE);
}

static void
test_delete_responder (void)
{
  run_delete (FALSE);
}

static void
test_dpd (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = NULL;
  const IkeEvent *ev;
  guint b_sent;

  ike_config_set_dpd (a, 30 * G_TIME_SPAN_SECOND, IKE_PEER_GONE_RESTART);
  ike_config_set_retransmit (a, G_TIME_SPAN_SECOND, 3);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));

  /* While b answers, liveness checks come and go. */
  b_sent = wire->b.n_sent;
  test_wire_run (wire, 95 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent + 3);
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_DOWN));

  /* b dies: a notices within 30 s + 1 + 2 + 4 + 8 s. */
  wire->dead_b = TRUE;
  test_wire_run (wire, 46 * G_TIME_SPAN_SECOND);
  ev = test_peer_event (&wire->a, IKE_EVENT_IKE_DOWN);
  g_assert_nonnull (ev);
  g_assert_true (ev->peer_gone);
  g_assert_cmpint (ev->action, ==, IKE_PEER_GONE_RESTART);
  g_assert_nonnull (test_peer_kernel (&wire->a, IKE_KERNEL_REMOVE));
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_CHILD_DOWN));
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
}

static void
test_garbage (void)
{
  g_autoptr (TestWire) wire = psk_wire (1);
  guint8 junk[64] = { 0 };
  guint b_sent;
  GBytes *auth_req;
  g_autoptr (GBytes) tampered = NULL;
  guint8 *copy;
  gsize len;

  test_wire_initiate (wire);
  test_wire_run (wire, RUN);
  b_sent = wire->b.n_sent;
  ike_engine_receive (wire->b.engine, wire->now, &wire->b.ends, junk, sizeof junk);
  ike_engine_receive (wire->b.engine, wire->now, &wire->b.ends, junk, 3);
  /* A flipped bit in a protected request: dropped, no answer, no change. */
  auth_req = find_sent (&wire->a, IKE_EXCHANGE_AUTH, FALSE);
  g_bytes_get_data (auth_req, &len);
  copy = g_memdup2 (g_bytes_get_data (auth_req, NULL), len);
  copy[len - 1] ^= 1;
  copy[23] = 2; /* message ID 2: the next one b expects */
  tampered = g_bytes_new_take (copy, len);
  test_wire_inject (wire, &wire->b, tampered);
  test_wire_run (wire, 0);
  g_assert_cmpuint (wire->b.n_sent, ==, b_sent);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_DOWN), ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  g_test_add_func ("/engine/life/lossy", test_lossy);
  g_test_add_func ("/engine/life/black-hole", test_black_hole);
  g_test_add_func ("/engine/life/replay", test_replay);
  g_test_add_func ("/engine/life/garbage", test_garbage);
  g_test_add_func ("/engine/life/delete-initiator", test_delete_initiator);
  g_test_add_func ("/engine/life/delete-responder", test_delete_responder);
  g_test_add_func ("/engine/life/dpd", test_dpd);
  status = g_test_run ();
  NSS_Shutdown ();
  return status;
}
