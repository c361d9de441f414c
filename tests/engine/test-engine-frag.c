/* IKE fragmentation (RFC 7383) back to back: a big IKE_AUTH split and
 * reassembled both ways, a lost fragment, a forged fragment, a retransmitted
 * fragmented request, and a peer that does not announce support. */
#include "harness.h"

#include <string.h>

#define PSK "correct horse battery staple 42"
#define SMALL_DATAGRAM 400
/* IPv4 + UDP + non-ESP marker: what the engine keeps free in a datagram. */
#define DATAGRAM_OVERHEAD (20 + 8 + 4)
#define LONG_ID_LEN 700

static char *
long_fqdn (char fill)
{
  char *name = g_malloc (LONG_ID_LEN + 1);

  memset (name, fill, LONG_ID_LEN);
  memcpy (name + LONG_ID_LEN - 12, ".example.org", 12);
  name[LONG_ID_LEN] = '\0';
  return name;
}

static IkeConfig *
frag_config (const char *name, char fill, gboolean enable)
{
  g_autofree char *fqdn = long_fqdn (fill);
  g_autoptr (GError) error = NULL;
  IkeConfig *config = test_config_psk (name, fqdn, PSK);

  g_assert_true (ike_config_set_fragmentation (config, enable, SMALL_DATAGRAM, &error));
  g_assert_no_error (error);
  return config;
}

static TestWire *
frag_wire (gboolean b_enable)
{
  g_autoptr (IkeConfig) a = frag_config ("a", 'a', TRUE);
  g_autoptr (IkeConfig) b = frag_config ("b", 'b', b_enable);

  return test_wire_new (a, b, 7);
}

/* Number and Total of an SKF datagram; FALSE for anything else. */
static gboolean
skf_of (GBytes *data, guint *number, guint *total)
{
  g_autoptr (IkeMsg) msg = ike_msg_parse (data, NULL, NULL);
  const IkePayloadSkf *skf = msg != NULL ? ike_msg_get_skf (msg) : NULL;

  if (skf == NULL)
    return FALSE;
  *number = skf->number;
  *total = skf->total;
  return TRUE;
}

static guint
count_fragments (TestPeer *peer, guint *total)
{
  guint n = 0, number;

  for (guint i = 0; i < peer->sent->len; i++)
    n += skf_of (peer->sent->pdata[i], &number, total);
  return n;
}

/* Of the protected messages (IKE_SA_INIT is never fragmented). */
static gsize
largest_sent (TestPeer *peer)
{
  gsize max = 0, len;

  for (guint i = 0; i < peer->sent->len; i++)
    {
      const guint8 *data = g_bytes_get_data (peer->sent->pdata[i], &len);

      if (len > IKE_HEADER_LEN && data[18] != IKE_EXCHANGE_SA_INIT)
        max = MAX (max, len);
    }
  return max;
}

static void
assert_up (TestWire *wire)
{
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_UP), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_UP), ==, 1);
  g_assert_cmpuint (test_peer_count_events (&wire->a, IKE_EVENT_IKE_FAILED), ==, 0);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_IKE_FAILED), ==, 0);
  test_assert_children_match (wire);
}

static void
test_split_both_ways (void)
{
  g_autoptr (TestWire) wire = frag_wire (TRUE);
  gint64 start = wire->now;
  guint total_a = 0, total_b = 0;
  const IkeEvent *up;

  test_wire_initiate (wire);
  test_wire_run (wire, G_TIME_SPAN_SECOND);
  assert_up (wire);
  /* IKE_AUTH request and response each in several fragments, all sent once
   * (no retransmission: the clock never moved). */
  g_assert_cmpuint (count_fragments (&wire->a, &total_a), >, 1);
  g_assert_cmpuint (count_fragments (&wire->a, &total_a), ==, total_a);
  g_assert_cmpuint (count_fragments (&wire->b, &total_b), ==, total_b);
  g_assert_cmpuint (total_b, >, 1);
  g_assert_cmpint (wire->now, ==, start);
  g_assert_cmpuint (largest_sent (&wire->a), <=, SMALL_DATAGRAM - DATAGRAM_OVERHEAD);
  g_assert_cmpuint (largest_sent (&wire->b), <=, SMALL_DATAGRAM - DATAGRAM_OVERHEAD);
  /* The long identities made it through reassembly intact. */
  up = test_peer_event (&wire->b, IKE_EVENT_IKE_UP);
  g_assert_cmpuint (g_bytes_get_size (up->remote_id), ==, LONG_ID_LEN);
  up = test_peer_event (&wire->a, IKE_EVENT_IKE_UP);
  g_assert_cmpuint (g_bytes_get_size (up->remote_id), ==, LONG_ID_LEN);
}

typedef struct
{
  TestPeer *from;
  guint number; /* the fragment to act on */
  guint times;  /* how often still */
  guint seen;
} FragFilter;

static GBytes *
drop_fragment (TestWire *wire, TestPeer *from, GBytes *data, gpointer user_data)
{
  FragFilter *f = user_data;
  guint number, total;

  if (from == f->from && f->times > 0 && skf_of (data, &number, &total)
      && (f->number == 0 || number == f->number))
    {
      f->times--;
      return NULL;
    }
  return g_bytes_ref (data);
}

static void
test_lost_fragment (void)
{
  g_autoptr (TestWire) wire = frag_wire (TRUE);
  FragFilter f = { &wire->a, 2, 1, 0 };
  guint total = 0;

  wire->filter = drop_fragment;
  wire->filter_data = &f;
  test_wire_initiate (wire);
  test_wire_run (wire, 10 * G_TIME_SPAN_SECOND);
  assert_up (wire);
  g_assert_cmpuint (f.times, ==, 0);
  /* Every fragment went out twice: the retransmission is the whole set. */
  g_assert_cmpuint (count_fragments (&wire->a, &total), ==, 2 * total);
}

/* The responder's answer is lost whole: the initiator retransmits all its
 * fragments, and the responder answers from its cache once, not once per
 * fragment, and with every fragment of the response. */
static void
test_cached_response (void)
{
  g_autoptr (TestWire) wire = frag_wire (TRUE);
  FragFilter f = { &wire->b, 0, 0, 0 };
  guint total_a = 0, total_b = 0;

  f.times = 1000; /* set below, once we know how many */
  wire->filter = drop_fragment;
  wire->filter_data = &f;
  test_wire_initiate (wire);
  test_wire_run (wire, 0);
  g_assert_cmpuint (count_fragments (&wire->b, &total_b), ==, total_b);
  f.times = 0;
  test_wire_run (wire, 10 * G_TIME_SPAN_SECOND);
  assert_up (wire);
  g_assert_cmpuint (count_fragments (&wire->a, &total_a), ==, 2 * total_a);
  g_assert_cmpuint (count_fragments (&wire->b, &total_b), ==, 2 * total_b);
  g_assert_cmpuint (test_peer_count_events (&wire->b, IKE_EVENT_CHILD_UP), ==, 1);
}

/* A fragment with one bit flipped, sent ahead of the real one: it must not
 * be kept (the real fragment 1 would then be a "duplicate" and the message
 * never complete) nor answered. */
static GBytes *
forge_first (TestWire *wire, TestPeer *from, GBytes *data, gpointer user_data)
{
  FragFilter *f = user_data;
  guint number, total;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (from == f->from && f->times > 0 && skf_of (data, &number, &total) && number == 1)
    {
      g_autofree guint8 *copy = g_memdup2 (bytes, len);
      g_autoptr (GBytes) forged = NULL;
      g_auto (IkeOutput) out = { 0 };

      f->times--;
      copy[len - 1] ^= 0x01;
      forged = g_bytes_new (copy, len);
      test_wire_inject (wire, &wire->b, forged);
      /* Nothing came of it: no datagram, no event. */
      f->seen = ike_engine_next_output (wire->b.engine, &out);
    }
  return g_bytes_ref (data);
}

static void
test_forged_fragment (void)
{
  g_autoptr (TestWire) wire = frag_wire (TRUE);
  FragFilter f = { &wire->a, 1, 1, 0 };
  gint64 start = wire->now;

  wire->filter = forge_first;
  wire->filter_data = &f;
  test_wire_initiate (wire);
  test_wire_run (wire, 10 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (f.times, ==, 0);
  g_assert_false (f.seen);
  assert_up (wire);
  /* Up without any retransmission: the forgery cost nothing. */
  g_assert_cmpint (wire->now, ==, start);
}

static void
test_peer_without_support (void)
{
  g_autoptr (TestWire) wire = frag_wire (FALSE);
  guint total = 0;

  test_wire_initiate (wire);
  test_wire_run (wire, G_TIME_SPAN_SECOND);
  assert_up (wire);
  g_assert_cmpuint (count_fragments (&wire->a, &total), ==, 0);
  g_assert_cmpuint (count_fragments (&wire->b, &total), ==, 0);
  g_assert_cmpuint (largest_sent (&wire->a), >, SMALL_DATAGRAM);
}

static void
test_size_checked (void)
{
  g_autoptr (IkeConfig) config = ike_config_new ("x");
  g_autoptr (GError) error = NULL;

  g_assert_false (ike_config_set_fragmentation (config, TRUE, 100, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ike_config_set_fragmentation (config, TRUE, 70000, &error));
  g_assert_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (ike_config_set_fragmentation (config, TRUE, 0, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/frag/split-both-ways", test_split_both_ways);
  g_test_add_func ("/engine/frag/lost-fragment", test_lost_fragment);
  g_test_add_func ("/engine/frag/cached-response", test_cached_response);
  g_test_add_func ("/engine/frag/forged-fragment", test_forged_fragment);
  g_test_add_func ("/engine/frag/peer-without-support", test_peer_without_support);
  g_test_add_func ("/engine/frag/size-checked", test_size_checked);
  return g_test_run ();
}
