/* CREATE_CHILD_SA back to back: new Child SAs with and without PFS, the
 * INVALID_KE retry, Child rekey and IKE rekey from each side, simultaneous
 * rekeys (RFC 7296 §2.8.1), deleting one Child SA, refusals. */
#include "harness.h"

#include <nss.h>
#include <string.h>

#define PSK "correct horse battery staple 42!"
#define RUN (10 * G_TIME_SPAN_MINUTE)

static TestWire *
up_wire (const char *esp_a, const char *esp_b)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  TestWire *wire;

  if (esp_a != NULL)
    test_config_set_proposals (a, NULL, esp_a);
  if (esp_b != NULL)
    test_config_set_proposals (b, NULL, esp_b);
  wire = test_wire_new (a, b, 1);
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_nonnull (test_peer_event (&wire->a, IKE_EVENT_IKE_UP));
  g_assert_nonnull (test_peer_event (&wire->b, IKE_EVENT_IKE_UP));
  test_assert_live_pairs (wire, 1);
  return wire;
}

/* The handle of the IKE SA @peer has up now. */
static IkeSaHandle
ike_handle (TestPeer *peer)
{
  return test_peer_last_event (peer, IKE_EVENT_IKE_UP)->sa;
}

static gboolean
same_key (const IkeSecret *x, const IkeSecret *y)
{
  return x->len == y->len && memcmp (x->data, y->data, x->len) == 0;
}

static void
create (TestWire *wire, TestPeer *self)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ike_engine_create_child (self->engine, wire->now, ike_handle (self), &error));
  g_assert_no_error (error);
}

static void
run_create (const char *esp, guint16 want_ke)
{
  g_autoptr (TestWire) wire = up_wire (esp, esp);
  const IkeKernelRequest *first = test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL);
  const IkeKernelRequest *second;

  create (wire, &wire->a);
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 2);
  second = test_peer_last_install (&wire->a);
  g_assert_true (second != first);
  g_assert_cmpuint (second->esp.ke, ==, want_ke);
  g_assert_cmpuint (test_peer_last_install (&wire->b)->esp.ke, ==, want_ke);
  g_assert_false (same_key (first->encr_in, second->encr_in));
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_UP), ==, 2);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_UP), ==, 2);
  g_assert_cmpuint (test_peer_last_event (&wire->b, IKE_EVENT_CHILD_UP)->child_replaces, ==, 0);
}

static void
test_create_no_pfs (void)
{
  run_create ("aes_gcm16_256", IKE_KE_NONE);
}

static void
test_create_pfs (void)
{
  run_create ("aes_gcm16_256-x25519", IKE_KE_CURVE25519);
}

/* b takes only ECP-256 for PFS: a's X25519 KE is answered with
 * INVALID_KE_PAYLOAD and a retries with the group b names. */
static void
test_create_invalid_ke (void)
{
  g_autoptr (TestWire) wire = up_wire ("aes_gcm16_256-x25519-ecp256", "aes_gcm16_256-ecp256");
  guint a_sent = wire->a.n_sent;

  create (wire, &wire->a);
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 2);
  g_assert_cmpuint (wire->a.n_sent, ==, a_sent + 2);
  g_assert_cmpuint (test_peer_last_install (&wire->a)->esp.ke, ==, IKE_KE_ECP256);
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED));
}

/* b's selectors do not overlap what a asks for the second Child SA. */
static void
test_create_refused (void)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example", PSK);
  g_autoptr (TestWire) wire = test_wire_new (a, b, 1);
  const IkeEvent *ev;
  IkeTs ts;

  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  /* From now on b only takes 10.9.0.0/16 behind a. */
  test_ts_v4 (&ts, "10.9.0.0", "10.9.255.255");
  g_assert_true (ike_config_add_ts (b, FALSE, &ts, NULL));
  create (wire, &wire->a);
  test_wire_run (wire, 0);
  ev = test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED);
  g_assert_nonnull (ev);
  g_assert_cmpuint (ev->notify, ==, IKE_N_TS_UNACCEPTABLE);
  g_assert_true (ev->notify_from_peer);
  test_assert_live_pairs (wire, 1);
  g_assert_null (test_peer_event (&wire->a, IKE_EVENT_IKE_DOWN));
}

static void
run_child_rekey (gboolean from_a)
{
  g_autoptr (TestWire) wire = up_wire (NULL, NULL);
  g_autoptr (GError) error = NULL;
  TestPeer *self = from_a ? &wire->a : &wire->b;
  const IkeKernelRequest *old_a = test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL);
  const IkeKernelRequest *old_self = test_peer_kernel (self, IKE_KERNEL_INSTALL);
  const IkeKernelRequest *live[2];
  guint32 old_spi = old_self->spi_in;

  g_assert_true (
      ike_engine_rekey_child (self->engine, wire->now, ike_handle (self), old_spi, &error));
  g_assert_no_error (error);
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 1);
  for (TestPeer *p = &wire->a; p <= &wire->b; p++)
    {
      const IkeKernelRequest *old = test_peer_kernel (p, IKE_KERNEL_INSTALL);
      const IkeEvent *up = test_peer_last_event (p, IKE_EVENT_CHILD_UP);
      const IkeEvent *down = test_peer_event (p, IKE_EVENT_CHILD_DOWN);
      IkeOutput *last = p->kernel->pdata[p->kernel->len - 1];

      g_assert_cmpuint (p->kernel->len, ==, 3);
      /* Install the new, then remove the old. */
      g_assert_cmpint (last->kernel.op, ==, IKE_KERNEL_REMOVE);
      g_assert_cmpuint (last->kernel.spi_in, ==, old->spi_in);
      test_peer_live (p, live, 2);
      g_assert_cmpuint (up->child_replaces, ==, old->spi_in);
      g_assert_cmpuint (up->spi_in, ==, live[0]->spi_in);
      g_assert_nonnull (down);
      g_assert_cmpuint (down->spi_in, ==, old->spi_in);
      g_assert_cmpuint (down->child_replaced_by, ==, live[0]->spi_in);
      g_assert_false (same_key (old->encr_in, live[0]->encr_in));
      g_assert_cmpuint (test_peer_count_events (p, IKE_EVENT_IKE_DOWN), ==, 0);
    }
  test_peer_live (&wire->a, live, 2);
  g_assert_false (same_key (old_a->encr_out, live[0]->encr_out));
}

static void
test_child_rekey_initiator (void)
{
  run_child_rekey (TRUE);
}

static void
test_child_rekey_responder (void)
{
  run_child_rekey (FALSE);
}

/* The SPIs of the IKE SA that carried @peer's last datagram. */
static guint64
last_spi_i (TestPeer *peer)
{
  const guint8 *d = g_bytes_get_data (peer->sent->pdata[peer->sent->len - 1], NULL);
  guint64 spi;

  memcpy (&spi, d, 8);
  return spi;
}

static void
assert_ike_rekeyed (TestPeer *p, IkeSaHandle old)
{
  const IkeEvent *up = test_peer_last_event (p, IKE_EVENT_IKE_UP);
  const IkeEvent *down = test_peer_event (p, IKE_EVENT_IKE_DOWN);

  g_assert_cmpuint (test_peer_count_events (p, IKE_EVENT_IKE_UP), ==, 2);
  g_assert_cmpuint (up->ike_replaces, ==, old);
  g_assert_cmpuint (up->sa, !=, old);
  g_assert_nonnull (down);
  g_assert_cmpuint (down->sa, ==, old);
  g_assert_cmpuint (down->ike_replaced_by, ==, up->sa);
  g_assert_cmpuint (test_peer_count_events (p, IKE_EVENT_IKE_DOWN), ==, 1);
  /* The Child SAs moved over: nothing removed, nothing reported down. */
  g_assert_cmpuint (test_peer_count_events (p, IKE_EVENT_CHILD_DOWN), ==, 0);
  g_assert_null (test_peer_kernel (p, IKE_KERNEL_REMOVE));
  g_assert_cmpuint (ike_engine_count_sas (p->engine), ==, 1);
}

/* After an IKE rekey the Child SAs live on under the new SA: rekeying one
 * there works from both sides, over the new keys. */
static void
rekey_children_after (TestWire *wire)
{
  for (TestPeer *p = &wire->a; p <= &wire->b; p++)
    {
      const IkeKernelRequest *live[2];
      g_autoptr (GError) error = NULL;

      g_assert_cmpuint (test_peer_live (p, live, 2), ==, 1);
      g_assert_true (
          ike_engine_rekey_child (p->engine, wire->now, ike_handle (p), live[0]->spi_in, &error));
      g_assert_no_error (error);
      test_wire_run (wire, 0);
      test_assert_live_pairs (wire, 1);
    }
}

static void
run_ike_rekey (gboolean from_a)
{
  g_autoptr (TestWire) wire = up_wire (NULL, NULL);
  g_autoptr (GError) error = NULL;
  TestPeer *self = from_a ? &wire->a : &wire->b;
  IkeSaHandle old_a = ike_handle (&wire->a), old_b = ike_handle (&wire->b);
  guint64 old_spi = last_spi_i (&wire->a);

  g_assert_true (ike_engine_rekey_ike (self->engine, wire->now, ike_handle (self), &error));
  g_assert_no_error (error);
  test_wire_run (wire, 0);
  assert_ike_rekeyed (&wire->a, old_a);
  assert_ike_rekeyed (&wire->b, old_b);
  test_assert_live_pairs (wire, 1);
  rekey_children_after (wire);
  g_assert_cmpuint (last_spi_i (&wire->a), !=, old_spi);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_DOWN), ==, 1);
  /* And the new IKE SA deletes cleanly. */
  g_assert_true (ike_engine_delete (self->engine, wire->now, ike_handle (self), &error));
  test_wire_run (wire, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 0);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 0);
  test_assert_live_pairs (wire, 0);
}

static void
test_ike_rekey_initiator (void)
{
  run_ike_rekey (TRUE);
}

static void
test_ike_rekey_responder (void)
{
  run_ike_rekey (FALSE);
}

/* Both sides rekey the same Child SA at the same moment: exactly one new
 * SA survives, the same on both sides, and the old one is gone. */
static void
test_child_rekey_collision (void)
{
  for (guint32 round = 0; round < 8; round++)
    {
      g_autoptr (TestWire) wire = up_wire (NULL, NULL);
      const IkeKernelRequest *live[4];
      guint32 old_a = test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL)->spi_in;
      guint32 old_b = test_peer_kernel (&wire->b, IKE_KERNEL_INSTALL)->spi_in;

      g_assert_true (
          ike_engine_rekey_child (wire->a.engine, wire->now, ike_handle (&wire->a), old_a, NULL));
      g_assert_true (
          ike_engine_rekey_child (wire->b.engine, wire->now, ike_handle (&wire->b), old_b, NULL));
      test_wire_run (wire, RUN);
      test_assert_live_pairs (wire, 1);
      test_peer_live (&wire->a, live, 4);
      g_assert_cmpuint (live[0]->spi_in, !=, old_a);
      g_assert_cmpuint (ike_engine_count_sas (wire->a.engine), ==, 1);
      g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
      g_assert_null (test_peer_event (&wire->a, IKE_EVENT_CHILD_FAILED));
      g_assert_null (test_peer_event (&wire->b, IKE_EVENT_CHILD_FAILED));
    }
}

/* Both sides rekey the IKE SA at once: one new IKE SA survives on both
 * sides, carrying the Child SA; the host sees one IKE_UP each. */
static void
test_ike_rekey_collision (void)
{
  for (guint32 round = 0; round < 8; round++)
    {
      g_autoptr (TestWire) wire = up_wire (NULL, NULL);
      IkeSaHandle old_a = ike_handle (&wire->a), old_b = ike_handle (&wire->b);

      g_assert_true (ike_engine_rekey_ike (wire->a.engine, wire->now, old_a, NULL));
      g_assert_true (ike_engine_rekey_ike (wire->b.engine, wire->now, old_b, NULL));
      test_wire_run (wire, RUN);
      assert_ike_rekeyed (&wire->a, old_a);
      assert_ike_rekeyed (&wire->b, old_b);
      test_assert_live_pairs (wire, 1);
      rekey_children_after (wire);
    }
}

static void
run_delete_child (gboolean from_a)
{
  g_autoptr (TestWire) wire = up_wire (NULL, NULL);
  g_autoptr (GError) error = NULL;
  TestPeer *self = from_a ? &wire->a : &wire->b;
  const IkeKernelRequest *live[4];

  create (wire, &wire->a);
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 2);
  test_peer_live (self, live, 4);
  g_assert_true (ike_engine_delete_child (self->engine, wire->now, ike_handle (self),
                                          live[0]->spi_in, &error));
  g_assert_no_error (error);
  g_assert_false (ike_engine_delete_child (self->engine, wire->now, ike_handle (self), 1, NULL));
  test_wire_run (wire, 0);
  test_assert_live_pairs (wire, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_CHILD_DOWN), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_DOWN), ==, 1);
  g_assert_cmpuint (ike_engine_count_sas (wire->b.engine), ==, 1);
}

static void
test_delete_child_initiator (void)
{
  run_delete_child (TRUE);
}

static void
test_delete_child_responder (void)
{
  run_delete_child (FALSE);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (ike_crypto_init (NULL));
  g_test_add_func ("/engine/create/no-pfs", test_create_no_pfs);
  g_test_add_func ("/engine/create/pfs", test_create_pfs);
  g_test_add_func ("/engine/create/invalid-ke", test_create_invalid_ke);
  g_test_add_func ("/engine/create/refused", test_create_refused);
  g_test_add_func ("/engine/rekey/child-initiator", test_child_rekey_initiator);
  g_test_add_func ("/engine/rekey/child-responder", test_child_rekey_responder);
  g_test_add_func ("/engine/rekey/ike-initiator", test_ike_rekey_initiator);
  g_test_add_func ("/engine/rekey/ike-responder", test_ike_rekey_responder);
  g_test_add_func ("/engine/rekey/child-collision", test_child_rekey_collision);
  g_test_add_func ("/engine/rekey/ike-collision", test_ike_rekey_collision);
  g_test_add_func ("/engine/delete/child-initiator", test_delete_child_initiator);
  g_test_add_func ("/engine/delete/child-responder", test_delete_child_responder);
  status = g_test_run ();
  NSS_Shutdown ();
  return status;
}
