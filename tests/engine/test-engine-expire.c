/* Lifetimes back to back: soft lifetimes rekey, hard ones delete, jitter
 * stays within its bounds, and the kernel's EXPIRE events do the same. */
#include "harness.h"

#include <nss.h>
#include <string.h>

#define PSK "correct horse battery staple 42!"
#define S G_TIME_SPAN_SECOND

/* a with the given lifetimes; b's are far longer, so only a acts. */
static TestWire *
wire_with (gint64 ike_soft, gint64 ike_hard, gint64 child_soft, gint64 child_hard, guint jitter)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (GError) error = NULL;
  TestWire *wire;

  g_assert_true (ike_config_set_ike_lifetime (a, ike_soft, ike_hard, &error));
  g_assert_true (ike_config_set_child_lifetime (a, child_soft, child_hard, &error));
  g_assert_no_error (error);
  ike_config_set_lifetime_jitter (a, jitter);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 1);
  return wire;
}

static void
test_config_refuses (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (GError) error = NULL;

  g_assert_false (ike_config_set_child_lifetime (a, 60 * S, 60 * S, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID);
}

static void
test_child_soft (void)
{
  g_autoptr (TestWire) wire = wire_with (0, 0, 60 * S, 90 * S, 0);

  test_wire_advance (wire, 59 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 1);
  test_wire_advance (wire, 2 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 2);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_UP), ==, 2);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_CHILD_DOWN));
  test_assert_live_pairs (wire, 1);
  /* And again a lifetime later: the new SA has its own. */
  test_wire_advance (wire, 60 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 3);
  test_assert_live_pairs (wire, 1);
}

static void
test_child_hard (void)
{
  g_autoptr (TestWire) wire = wire_with (0, 0, 0, 60 * S, 0);
  const IkeEvent *ev;

  test_wire_advance (wire, 59 * S);
  test_assert_live_pairs (wire, 1);
  test_wire_advance (wire, 2 * S);
  test_assert_live_pairs (wire, 0);
  ev = test_peer_event (&wire->a, IKE_EVENT_CHILD_DOWN);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->reason, "lifetime"));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_CHILD_DOWN));
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 1);
}

static void
test_ike_soft (void)
{
  g_autoptr (TestWire) wire = wire_with (120 * S, 0, 0, 0, 0);
  IkeSaHandle old = test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->sa;

  test_wire_advance (wire, 119 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 1);
  test_wire_advance (wire, 2 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 2);
  g_assert_cmpuint (test_peer_last_event (&wire->a, IKE_EVENT_IKE_UP)->ike_replaces, ==, old);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_DOWN), ==, 1);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  test_assert_live_pairs (wire, 1);
  test_wire_advance (wire, 120 * S);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 3);
}

static void
test_ike_hard (void)
{
  g_autoptr (TestWire) wire = wire_with (0, 300 * S, 0, 0, 0);

  test_wire_advance (wire, 299 * S);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
  test_wire_advance (wire, 2 * S);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_DOWN));
  test_assert_live_pairs (wire, 0);
}

/* With 50 % jitter the rekey comes between half the soft lifetime and all
 * of it, and not always at the same time. */
static void
test_jitter (void)
{
  gint64 first = 0;
  gboolean varied = FALSE;

  for (guint i = 0; i < 8; i++)
    {
      g_autoptr (TestWire) wire = wire_with (0, 0, 100 * S, 200 * S, 50);
      gint64 start = wire->now, at;

      test_wire_advance (wire, 50 * S - 1);
      g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 1);
      while (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP) == 1
             && wire->now - start <= 100 * S)
        test_wire_advance (wire, S);
      at = wire->now - start;
      g_assert_cmpint (at, <=, 101 * S);
      g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 2);
      varied |= i > 0 && at != first;
      first = i == 0 ? at : first;
    }
  g_assert_true (varied);
}

static void
test_kernel_expire (void)
{
  g_autoptr (TestWire) wire = wire_with (0, 0, 0, 0, 0);
  const IkeKernelRequest *live[2];

  g_assert_false (ike_engine_child_expired (wire->a.engine, wire->now, 12345, FALSE));
  test_peer_live (&wire->a, live, 2);
  /* Soft, by the outbound SPI: a rekey. */
  g_assert_true (ike_engine_child_expired (wire->a.engine, wire->now, live[0]->spi_out, FALSE));
  test_wire_run (wire, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 2);
  test_assert_live_pairs (wire, 1);
  /* Hard, by the inbound SPI: gone on both sides. */
  test_peer_live (&wire->b, live, 2);
  g_assert_true (ike_engine_child_expired (wire->b.engine, wire->now, live[0]->spi_in, TRUE));
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 1);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  g_test_add_func ("/engine/lifetime/config-refuses", test_config_refuses);
  g_test_add_func ("/engine/lifetime/child-soft", test_child_soft);
  g_test_add_func ("/engine/lifetime/child-hard", test_child_hard);
  g_test_add_func ("/engine/lifetime/ike-soft", test_ike_soft);
  g_test_add_func ("/engine/lifetime/ike-hard", test_ike_hard);
  g_test_add_func ("/engine/lifetime/jitter", test_jitter);
  g_test_add_func ("/engine/lifetime/kernel-expire", test_kernel_expire);
  status = g_test_run ();
  NSS_Shutdown ();
  return status;
}
