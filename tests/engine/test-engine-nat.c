/* NAT traversal back to back: the harness puts a NAT in front of the
 * initiator.  Both sides detect it, IKE_AUTH moves to port 4500, Child SAs
 * are installed with UDP encapsulation, the initiator sends keepalives, and
 * a new NAT mapping is followed only on an authenticated message. */
#include "harness.h"

#include <string.h>

#define PSK "correct horse battery staple 42"
#define KEEPALIVE (10 * G_TIME_SPAN_SECOND)

static TestWire *
nat_wire (gboolean nat)
{
  g_autoptr (IkeConfig) a = test_config_psk ("a", "a.example.org", PSK);
  g_autoptr (IkeConfig) b = test_config_psk ("b", "b.example.org", PSK);
  g_autoptr (GError) error = NULL;
  TestWire *wire;
  IkeTs net_a, net_b;

  /* Subnets behind each side: the default (each end's address) cannot
   * match across the NAT, which shows b another address for a. */
  test_ts_v4 (&net_a, "10.0.1.0", "10.0.1.255");
  test_ts_v4 (&net_b, "10.0.2.0", "10.0.2.255");
  g_assert_true (ike_config_add_ts (a, TRUE, &net_a, &error));
  g_assert_true (ike_config_add_ts (a, FALSE, &net_b, &error));
  g_assert_true (ike_config_add_ts (b, TRUE, &net_b, &error));
  g_assert_true (ike_config_add_ts (b, FALSE, &net_a, &error));
  g_assert_no_error (error);
  ike_config_set_nat_keepalive (a, KEEPALIVE);
  ike_config_set_nat_keepalive (b, KEEPALIVE);
  wire = test_wire_new (a, b, 11);
  wire->nat = nat;
  return wire;
}

static IkeSaHandle
bring_up (TestWire *wire)
{
  IkeSaHandle handle = test_wire_initiate (wire);

  test_wire_run (wire, G_TIME_SPAN_SECOND);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_UP), ==, 1);
  test_assert_children_match (wire);
  return handle;
}

static void
assert_encap (const IkeKernelRequest *k, guint16 sport, guint16 dport)
{
  g_assert_true (k->udp_encap);
  g_assert_cmpuint (k->encap_sport, ==, sport);
  g_assert_cmpuint (k->encap_dport, ==, dport);
  g_assert_cmpuint (test_port (&k->ends.local), ==, sport);
  g_assert_cmpuint (test_port (&k->ends.remote), ==, dport);
}

static void
test_detect_and_float (void)
{
  g_autoptr (TestWire) wire = nat_wire (TRUE);
  const IkeEvent *up_a, *up_b;

  bring_up (wire);
  up_a = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  up_b = test_peer_event (&wire->b, IKE_EVENT_IKE_UP);
  g_assert_true (up_a->nat_local);
  g_assert_false (up_a->nat_remote);
  g_assert_false (up_b->nat_local);
  g_assert_true (up_b->nat_remote);
  /* a moved to 4500 for IKE_AUTH: b met it at the NAT's 4500 mapping. */
  assert_encap (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL), IKE_NATT_PORT, IKE_NATT_PORT);
  assert_encap (test_peer_kernel (&wire->b, IKE_KERNEL_INSTALL), IKE_NATT_PORT, TEST_NAT_PORT + 1);
}

static void
test_no_nat (void)
{
  g_autoptr (TestWire) wire = nat_wire (FALSE);
  const IkeKernelRequest *k;

  bring_up (wire);
  g_assert_false (test_peer_event (&wire->a, IKE_EVENT_IKE_UP)->nat_local);
  g_assert_false (test_peer_event (&wire->b, IKE_EVENT_IKE_UP)->nat_remote);
  k = test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL);
  g_assert_false (k->udp_encap);
  g_assert_cmpuint (test_port (&k->ends.local), ==, 500);
  test_wire_advance (wire, 5 * KEEPALIVE);
  g_assert_cmpuint (wire->a.keepalives->len, ==, 0);
  g_assert_cmpuint (wire->b.keepalives->len, ==, 0);
}

static void
test_keepalives (void)
{
  g_autoptr (TestWire) wire = nat_wire (TRUE);
  gint64 up;

  bring_up (wire);
  up = wire->now;
  test_wire_advance (wire, 3 * KEEPALIVE + KEEPALIVE / 2);
  /* Only the side behind the NAT keeps its mapping open, every interval. */
  g_assert_cmpuint (wire->a.keepalives->len, ==, 3);
  g_assert_cmpuint (wire->b.keepalives->len, ==, 0);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_array_index (wire->a.keepalives, gint64, i), ==, up + (i + 1) * KEEPALIVE);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_DOWN), ==, 0);
}

static void
test_new_mapping (void)
{
  g_autoptr (TestWire) wire = nat_wire (TRUE);
  g_autoptr (GError) error = NULL;
  IkeSaHandle handle = bring_up (wire);
  const IkeEvent *moved;

  wire->nat_port = 50000;
  g_assert_true (ike_engine_create_child (wire->a.engine, wire->now, handle, &error));
  g_assert_no_error (error);
  test_wire_run (wire, G_TIME_SPAN_SECOND);
  moved = test_peer_event (&wire->b, IKE_EVENT_IKE_MOVED);
  g_assert_nonnull (moved);
  g_assert_cmpuint (test_port (&moved->ends.remote), ==, 50001);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_MOVED), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_MOVED), ==, 0);
  /* The new Child SA goes to the new mapping. */
  test_assert_live_pairs (wire, 2);
  assert_encap (test_peer_last_install (&wire->b), IKE_NATT_PORT, 50001);
}

/* A message from another mapping that does not authenticate moves nothing:
 * a's last request with its message ID advanced (the header is AAD). */
static void
test_forged_move (void)
{
  g_autoptr (TestWire) wire = nat_wire (TRUE);
  g_auto (IkeOutput) out = { 0 };
  g_autoptr (GError) error = NULL;
  IkeSaHandle handle;
  GBytes *last;
  g_autofree guint8 *copy = NULL;
  g_autoptr (GBytes) forged = NULL;
  IkeEnds ends;
  gsize len;

  handle = bring_up (wire);
  last = wire->a.sent->pdata[wire->a.sent->len - 1];
  copy = g_memdup2 (g_bytes_get_data (last, &len), g_bytes_get_size (last));
  copy[23]++;
  forged = g_bytes_new (copy, len);
  ends = wire->b.ends;
  memset (&ends.remote, 0, sizeof ends.remote);
  ((struct sockaddr_in *) &ends.remote)->sin_family = AF_INET;
  ((struct sockaddr_in *) &ends.remote)->sin_port = g_htons (50001);
  ((struct sockaddr_in *) &ends.remote)->sin_addr.s_addr = g_htonl (0xc6336401); /* .100.1 */
  ((struct sockaddr_in *) &ends.local)->sin_port = g_htons (IKE_NATT_PORT);
  test_wire_inject_ends (wire, &wire->b, &ends, forged);
  g_assert_false (ike_engine_next_output (wire->b.engine, &out));
  /* b still talks to the old mapping. */
  g_assert_true (ike_engine_create_child (wire->a.engine, wire->now, handle, &error));
  g_assert_no_error (error);
  test_wire_run (wire, G_TIME_SPAN_SECOND);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_MOVED), ==, 0);
  test_assert_live_pairs (wire, 2);
  assert_encap (test_peer_last_install (&wire->b), IKE_NATT_PORT, TEST_NAT_PORT + 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/nat/detect-and-float", test_detect_and_float);
  g_test_add_func ("/engine/nat/no-nat", test_no_nat);
  g_test_add_func ("/engine/nat/keepalives", test_keepalives);
  g_test_add_func ("/engine/nat/new-mapping", test_new_mapping);
  g_test_add_func ("/engine/nat/forged-move", test_forged_move);
  return g_test_run ();
}
