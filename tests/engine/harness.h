/* Two IKE engines back to back in memory: a "wire" carries what one sends
 * to the other, a fake clock jumps to the next deadline, and the wire can
 * drop, duplicate and reorder datagrams from a seeded generator. */
#pragma once

#include <glib.h>

#include "ike-engine.h"

typedef struct
{
  IkeEngine *engine;
  IkeEnds ends;      /* as this side sees them */
  IkeConfig *config; /* what the lookup returns (responder) */
  GPtrArray *events; /* IkeOutput *, kind EVENT */
  GPtrArray *kernel; /* IkeOutput *, kind KERNEL */
  guint n_lookups;
  guint n_sent;
  GPtrArray *sent;    /* GBytes of every datagram sent */
  GArray *keepalives; /* gint64: when each NAT keepalive went out */
} TestPeer;

typedef struct _TestWire TestWire;

struct _TestWire
{
  TestPeer a, b; /* a initiates */
  gint64 now;
  GQueue wire; /* TestDatagram */
  GRand *rand;
  gdouble drop, dup;
  gboolean reorder;
  gboolean dead_b; /* b receives and sends nothing */
  /* Sees every datagram sent, before loss: returns what goes on the wire
   * (a new reference; NULL drops it). */
  GBytes *(*filter) (TestWire *wire, TestPeer *from, GBytes *data, gpointer user_data);
  gpointer filter_data;
  /* A NAT in front of a: b sees a at TEST_NAT_ADDR, from port nat_port
   * for a's port 500 and nat_port + 1 for 4500 (nat_port may change: a
   * new mapping). */
  gboolean nat;
  guint16 nat_port;
};

#define TEST_NAT_ADDR "198.51.100.1"
#define TEST_NAT_PORT 40000

TestWire *test_wire_new (IkeConfig *a, IkeConfig *b, guint32 seed);
void test_wire_free (TestWire *wire);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestWire, test_wire_free)

IkeSaHandle test_wire_initiate (TestWire *wire);
/* Moves datagrams and time until nothing is due before now + @horizon. */
void test_wire_run (TestWire *wire, gint64 horizon);
/* test_wire_run, then the clock stands at now + @span. */
void test_wire_advance (TestWire *wire, gint64 span);
void test_wire_inject (TestWire *wire, TestPeer *to, GBytes *datagram);
/* The same, as if it came from and to @ends (as @to sees them). */
void test_wire_inject_ends (TestWire *wire, TestPeer *to, const IkeEnds *ends, GBytes *datagram);
guint16 test_port (const struct sockaddr_storage *addr);

/* The first event of @kind after index *from (which it updates), or NULL. */
const IkeEvent *test_peer_event (TestPeer *peer, IkeEventKind kind);
guint test_peer_count_events (TestPeer *peer, IkeEventKind kind);
const IkeKernelRequest *test_peer_kernel (TestPeer *peer, IkeKernelOp op);
/* Asserts both sides installed one Child SA each, mirrored: SPIs and keys. */
void test_assert_children_match (TestWire *wire);
/* Asserts two installs are the two ends of one Child SA. */
void test_assert_pair (const IkeKernelRequest *a, const IkeKernelRequest *b);
/* Installs not removed since, in order; returns how many (fills up to @max). */
guint test_peer_live (TestPeer *peer, const IkeKernelRequest **out, guint max);
/* Each side has exactly @n live Child SAs, and they pair up. */
void test_assert_live_pairs (TestWire *wire, guint n);
const IkeKernelRequest *test_peer_last_install (TestPeer *peer);
const IkeEvent *test_peer_last_event (TestPeer *peer, IkeEventKind kind);
/* The peer loses all state: a new engine, same addresses and config. */
void test_peer_restart (TestPeer *peer);

/* Configs and keys for tests */
IkeConfig *test_config_psk (const char *name, const char *local_fqdn, const char *psk);
void test_config_set_proposals (IkeConfig *config, const char *ike, const char *esp);
void test_ts_v4 (IkeTs *ts, const char *start, const char *end);
void test_nss_keys (SECKEYPrivateKey **priv, SECKEYPublicKey **pub, gboolean rsa);
extern const IkeIdentity test_id_any;
