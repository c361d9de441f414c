/* The engine harness: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pk11pub.h>
#include <string.h>

#define MAX_STEPS 100000

typedef struct
{
  TestPeer *to;
  IkeEnds ends; /* as @to sees them */
  GBytes *data;
} TestDatagram;

static void
output_free (gpointer data)
{
  ike_output_clear (data);
  g_free (data);
}

static void
set_addr (struct sockaddr_storage *ss, const char *ip)
{
  struct sockaddr_in *in = (struct sockaddr_in *) ss;

  memset (ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_port = htons (500);
  g_assert_cmpint (inet_pton (AF_INET, ip, &in->sin_addr), ==, 1);
}

static IkeConfig *
lookup (const IkeEnds *ends, const IkeIdentity *peer, gpointer user_data)
{
  TestPeer *self = user_data;

  self->n_lookups++;
  return self->config != NULL ? ike_config_ref (self->config) : NULL;
}

static void
peer_init (TestPeer *peer, IkeConfig *config, const char *local, const char *remote)
{
  g_autoptr (GError) error = NULL;

  peer->engine = ike_engine_new (lookup, peer, &error);
  g_assert_no_error (error);
  set_addr (&peer->ends.local, local);
  set_addr (&peer->ends.remote, remote);
  peer->config = config != NULL ? ike_config_ref (config) : NULL;
  peer->events = g_ptr_array_new_with_free_func (output_free);
  peer->kernel = g_ptr_array_new_with_free_func (output_free);
  peer->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  peer->keepalives = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
peer_clear (TestPeer *peer)
{
  g_clear_pointer (&peer->engine, ike_engine_free);
  g_clear_pointer (&peer->config, ike_config_unref);
  g_clear_pointer (&peer->events, g_ptr_array_unref);
  g_clear_pointer (&peer->kernel, g_ptr_array_unref);
  g_clear_pointer (&peer->sent, g_ptr_array_unref);
  g_clear_pointer (&peer->keepalives, g_array_unref);
}

TestWire *
test_wire_new (IkeConfig *a, IkeConfig *b, guint32 seed)
{
  TestWire *wire = g_new0 (TestWire, 1);

  peer_init (&wire->a, a, "192.0.2.1", "192.0.2.2");
  peer_init (&wire->b, b, "192.0.2.2", "192.0.2.1");
  wire->rand = g_rand_new_with_seed (seed);
  wire->now = 1000 * G_TIME_SPAN_SECOND;
  wire->nat_port = TEST_NAT_PORT;
  g_queue_init (&wire->wire);
  return wire;
}

static void
datagram_free (gpointer data)
{
  TestDatagram *d = data;

  g_bytes_unref (d->data);
  g_free (d);
}

void
test_wire_free (TestWire *wire)
{
  g_queue_clear_full (&wire->wire, datagram_free);
  peer_clear (&wire->a);
  peer_clear (&wire->b);
  g_rand_free (wire->rand);
  g_free (wire);
}

IkeSaHandle
test_wire_initiate (TestWire *wire)
{
  g_autoptr (GError) error = NULL;
  IkeSaHandle handle = 0;

  g_assert_true (ike_engine_initiate (wire->a.engine, wire->now, wire->a.config, &wire->a.ends,
                                      &handle, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (handle, !=, 0);
  return handle;
}

static void
enqueue (TestWire *wire, TestPeer *to, const IkeEnds *ends, GBytes *data)
{
  TestDatagram *d;

  if (data == NULL)
    return;
  if (wire->drop > 0 && g_rand_double (wire->rand) < wire->drop)
    return;
  d = g_new0 (TestDatagram, 1);
  d->to = to;
  d->ends = *ends;
  d->data = g_bytes_ref (data);
  g_queue_push_tail (&wire->wire, d);
  if (wire->dup > 0 && g_rand_double (wire->rand) < wire->dup)
    enqueue (wire, to, ends, data);
}

guint16
test_port (const struct sockaddr_storage *addr)
{
  return ntohs (((const struct sockaddr_in *) addr)->sin_port);
}

static void
set_port (struct sockaddr_storage *addr, guint16 port)
{
  ((struct sockaddr_in *) addr)->sin_port = htons (port);
}

/* The ends the receiver sees for a datagram @from sent on @sent, with the
 * NAT in front of a rewriting a's address and port. */
static void
receiver_ends (TestWire *wire, TestPeer *from, const IkeEnds *sent, IkeEnds *seen)
{
  seen->local = sent->remote;
  seen->remote = sent->local;
  if (!wire->nat)
    return;
  if (from == &wire->a)
    {
      guint16 port = test_port (&sent->local);

      set_addr (&seen->remote, TEST_NAT_ADDR);
      set_port (&seen->remote, wire->nat_port + (port == IKE_NATT_PORT));
    }
  else
    {
      guint16 port = test_port (&sent->remote);

      /* An old mapping is gone: a never sees it. */
      g_assert_true (port == wire->nat_port || port == wire->nat_port + 1);
      seen->local = wire->a.ends.local;
      set_port (&seen->local, port == wire->nat_port ? 500 : IKE_NATT_PORT);
    }
}

static gboolean
is_keepalive (TestWire *wire, TestPeer *from, GBytes *data)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (len != 1 || bytes[0] != 0xff)
    return FALSE;
  g_array_append_val (from->keepalives, wire->now);
  return TRUE;
}

/* Takes every output of @from: datagrams onto the wire, the rest kept. */
static gboolean
drain (TestWire *wire, TestPeer *from, TestPeer *to)
{
  IkeOutput out;
  gboolean any = FALSE;

  while (ike_engine_next_output (from->engine, &out))
    {
      any = TRUE;
      if (out.kind == IKE_OUTPUT_SEND)
        {
          IkeEnds seen;

          if (!wire->nat)
            g_assert_true (memcmp (&out.ends, &from->ends, sizeof out.ends) == 0);
          if (is_keepalive (wire, from, out.data))
            {
              ike_output_clear (&out);
              continue;
            }
          receiver_ends (wire, from, &out.ends, &seen);
          from->n_sent++;
          g_ptr_array_add (from->sent, g_bytes_ref (out.data));
          if (!(wire->dead_b && (from == &wire->b || to == &wire->b)))
            {
              g_autoptr (GBytes) data = wire->filter != NULL
                                            ? wire->filter (wire, from, out.data, wire->filter_data)
                                            : g_bytes_ref (out.data);

              enqueue (wire, to, &seen, data);
            }
          ike_output_clear (&out);
          continue;
        }
      g_ptr_array_add (out.kind == IKE_OUTPUT_EVENT ? from->events : from->kernel,
                       g_memdup2 (&out, sizeof out));
    }
  return any;
}

void
test_wire_inject_ends (TestWire *wire, TestPeer *to, const IkeEnds *ends, GBytes *datagram)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (datagram, &len);

  ike_engine_receive (to->engine, wire->now, ends, data, len);
}

void
test_wire_inject (TestWire *wire, TestPeer *to, GBytes *datagram)
{
  test_wire_inject_ends (wire, to, &to->ends, datagram);
}

static gboolean
deliver_one (TestWire *wire)
{
  TestDatagram *d;
  guint n = g_queue_get_length (&wire->wire);

  if (n == 0)
    return FALSE;
  if (wire->reorder && n > 1)
    d = g_queue_pop_nth (&wire->wire, g_rand_int_range (wire->rand, 0, (gint32) n));
  else
    d = g_queue_pop_head (&wire->wire);
  if (!(wire->dead_b && d->to == &wire->b))
    test_wire_inject_ends (wire, d->to, &d->ends, d->data);
  datagram_free (d);
  return TRUE;
}

void
test_wire_run (TestWire *wire, gint64 horizon)
{
  gint64 until = wire->now + horizon;

  for (guint step = 0; step < MAX_STEPS; step++)
    {
      gint64 next;

      drain (wire, &wire->a, &wire->b);
      drain (wire, &wire->b, &wire->a);
      if (deliver_one (wire))
        continue;
      next = MIN (ike_engine_next_deadline (wire->a.engine),
                  ike_engine_next_deadline (wire->b.engine));
      if (next > until)
        return;
      wire->now = MAX (wire->now, next);
      ike_engine_tick (wire->a.engine, wire->now);
      ike_engine_tick (wire->b.engine, wire->now);
    }
  g_assert_not_reached ();
}

void
test_wire_advance (TestWire *wire, gint64 span)
{
  gint64 until = wire->now + span;

  test_wire_run (wire, span);
  wire->now = MAX (wire->now, until);
}

const IkeEvent *
test_peer_event (TestPeer *peer, IkeEventKind kind)
{
  for (guint i = 0; i < peer->events->len; i++)
    {
      IkeOutput *out = peer->events->pdata[i];

      if (out->event.kind == kind)
        return &out->event;
    }
  return NULL;
}

guint
test_peer_count_events (TestPeer *peer, IkeEventKind kind)
{
  guint n = 0;

  for (guint i = 0; i < peer->events->len; i++)
    n += ((IkeOutput *) peer->events->pdata[i])->event.kind == kind;
  return n;
}

const IkeKernelRequest *
test_peer_kernel (TestPeer *peer, IkeKernelOp op)
{
  for (guint i = 0; i < peer->kernel->len; i++)
    {
      IkeOutput *out = peer->kernel->pdata[i];

      if (out->kernel.op == op)
        return &out->kernel;
    }
  return NULL;
}

static void
assert_secret_equal (const IkeSecret *x, const IkeSecret *y)
{
  if (x == NULL || y == NULL)
    {
      g_assert_true (x == y);
      return;
    }
  g_assert_cmpmem (x->data, x->len, y->data, y->len);
}

void
test_assert_children_match (TestWire *wire)
{
  test_assert_pair (test_peer_kernel (&wire->a, IKE_KERNEL_INSTALL),
                    test_peer_kernel (&wire->b, IKE_KERNEL_INSTALL));
}

void
test_assert_pair (const IkeKernelRequest *a, const IkeKernelRequest *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (a->protocol, ==, IKE_PROTO_ESP);
  g_assert_cmpuint (a->spi_in, ==, b->spi_out);
  g_assert_cmpuint (a->spi_out, ==, b->spi_in);
  g_assert_cmpuint (a->spi_in, >=, 256);
  g_assert_cmpuint (b->spi_in, >=, 256);
  g_assert_cmpint (a->mode, ==, b->mode);
  g_assert_true (memcmp (&a->esp, &b->esp, sizeof a->esp) == 0);
  g_assert_nonnull (a->encr_in);
  g_assert_cmpuint (a->encr_in->len, >, 0);
  assert_secret_equal (a->encr_in, b->encr_out);
  assert_secret_equal (a->encr_out, b->encr_in);
  assert_secret_equal (a->integ_in, b->integ_out);
  assert_secret_equal (a->integ_out, b->integ_in);
  g_assert_false (a->encr_in->len == a->encr_out->len
                  && memcmp (a->encr_in->data, a->encr_out->data, a->encr_in->len) == 0);
  g_assert_cmpuint (a->n_ts_local, ==, b->n_ts_remote);
  g_assert_cmpuint (a->n_ts_remote, ==, b->n_ts_local);
  g_assert_true (memcmp (a->ts_local, b->ts_remote, a->n_ts_local * sizeof (IkeTs)) == 0);
  g_assert_true (memcmp (a->ts_remote, b->ts_local, a->n_ts_remote * sizeof (IkeTs)) == 0);
}

guint
test_peer_live (TestPeer *peer, const IkeKernelRequest **out, guint max)
{
  guint n = 0;

  for (guint i = 0; i < peer->kernel->len; i++)
    {
      const IkeKernelRequest *k = &((IkeOutput *) peer->kernel->pdata[i])->kernel;
      gboolean removed = FALSE;

      if (k->op != IKE_KERNEL_INSTALL)
        continue;
      for (guint j = i + 1; j < peer->kernel->len; j++)
        {
          const IkeKernelRequest *r = &((IkeOutput *) peer->kernel->pdata[j])->kernel;

          removed |= r->op == IKE_KERNEL_REMOVE && r->spi_in == k->spi_in;
        }
      if (!removed && n < max)
        out[n] = k;
      n += !removed;
    }
  return n;
}

const IkeKernelRequest *
test_peer_last_install (TestPeer *peer)
{
  for (guint i = peer->kernel->len; i > 0; i--)
    {
      IkeOutput *out = peer->kernel->pdata[i - 1];

      if (out->kernel.op == IKE_KERNEL_INSTALL)
        return &out->kernel;
    }
  return NULL;
}

const IkeEvent *
test_peer_last_event (TestPeer *peer, IkeEventKind kind)
{
  for (guint i = peer->events->len; i > 0; i--)
    {
      IkeOutput *out = peer->events->pdata[i - 1];

      if (out->event.kind == kind)
        return &out->event;
    }
  return NULL;
}

void
test_peer_restart (TestPeer *peer)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&peer->engine, ike_engine_free);
  peer->engine = ike_engine_new (lookup, peer, &error);
  g_assert_no_error (error);
}

void
test_assert_live_pairs (TestWire *wire, guint n)
{
  const IkeKernelRequest *a[8], *b[8];

  g_assert_cmpuint (test_peer_live (&wire->a, a, 8), ==, n);
  g_assert_cmpuint (test_peer_live (&wire->b, b, 8), ==, n);
  for (guint i = 0; i < n; i++)
    {
      guint j = 0;

      while (j < n && b[j]->spi_in != a[i]->spi_out)
        j++;
      g_assert_cmpuint (j, <, n);
      test_assert_pair (a[i], b[j]);
    }
}

/* ---- Configs ---- */

const IkeIdentity test_id_any = { 0, NULL, 0 };

IkeConfig *
test_config_psk (const char *name, const char *local_fqdn, const char *psk)
{
  g_autoptr (GError) error = NULL;
  IkeConfig *config = ike_config_new (name);
  IkeIdentity id = { IKE_ID_FQDN, (const guint8 *) local_fqdn, strlen (local_fqdn) };

  g_assert_true (ike_config_set_local_auth (config, IKE_AUTH_SHARED_KEY, &id, &error));
  g_assert_true (ike_config_set_remote_auth (config, IKE_AUTH_SHARED_KEY, NULL, &error));
  g_assert_true (ike_config_set_psk (config, (const guint8 *) psk, strlen (psk), &error));
  g_assert_no_error (error);
  return config;
}

void
test_config_set_proposals (IkeConfig *config, const char *ike, const char *esp)
{
  g_autoptr (GError) error = NULL;
  IkeProposalList ike_list, esp_list;

  if (ike != NULL)
    g_assert_true (ike_proposal_list_parse (ike, IKE_PROTO_IKE, 0, &ike_list, NULL, &error));
  g_assert_no_error (error);
  if (esp != NULL)
    g_assert_true (ike_proposal_list_parse (esp, IKE_PROTO_ESP, 0, &esp_list, NULL, &error));
  g_assert_no_error (error);
  ike_config_set_proposals (config, ike != NULL ? &ike_list : NULL, esp != NULL ? &esp_list : NULL);
}

void
test_ts_v4 (IkeTs *ts, const char *start, const char *end)
{
  memset (ts, 0, sizeof *ts);
  ts->type = IKE_TS_IPV4_ADDR_RANGE;
  ts->end_port = 65535;
  g_assert_cmpint (inet_pton (AF_INET, start, ts->start), ==, 1);
  g_assert_cmpint (inet_pton (AF_INET, end, ts->end), ==, 1);
}

void
test_nss_keys (SECKEYPrivateKey **priv, SECKEYPublicKey **pub, gboolean rsa)
{
  /* DER OID of P-256 (prime256v1), as NSS wants the EC parameters. */
  static const guint8 p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
  PK11SlotInfo *slot = PK11_GetInternalSlot ();

  if (rsa)
    {
      PK11RSAGenParams params = { 2048, 65537 };

      *priv = PK11_GenerateKeyPair (slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &params, pub, PR_FALSE,
                                    PR_FALSE, NULL);
    }
  else
    {
      SECItem params = { siBuffer, (unsigned char *) p256, sizeof p256 };

      *priv = PK11_GenerateKeyPair (slot, CKM_EC_KEY_PAIR_GEN, &params, pub, PR_FALSE, PR_FALSE,
                                    NULL);
    }
  PK11_FreeSlot (slot);
  g_assert_nonnull (*priv);
  g_assert_nonnull (*pub);
}
