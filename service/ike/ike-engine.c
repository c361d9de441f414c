/* The engine: its inputs (datagrams, requests, ticks), its output queue, the
 * table of IKE SAs, cookies and the rate-limited log of rejected messages.
 * What an exchange does lives in ike-exch-*.c, chosen by ike-exchange.c. */
#include "ike-engine-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pk11pub.h>
#include <secport.h>
#include <string.h>

#define DEFAULT_COOKIE_THRESHOLD 16
#define DEFAULT_HALF_OPEN_MAX 4096
#define DEFAULT_HALF_OPEN_TIMEOUT (30 * G_TIME_SPAN_SECOND)
#define COOKIE_SECRET_LEN 32
#define COOKIE_HASH_LEN 32 /* SHA-256 */
#define COOKIE_LEN (1 + COOKIE_HASH_LEN)
#define COOKIE_ROTATE (5 * G_TIME_SPAN_MINUTE)
#define LOG_WINDOW G_TIME_SPAN_SECOND
#define LOG_PER_WINDOW 20

struct _IkeEngine
{
  IkeConfigLookupFunc lookup;
  gpointer user_data;
  GHashTable *by_spi;    /* our SPI → IkeSa (owns) */
  GHashTable *by_handle; /* handle → IkeSa */
  GHashTable *half_open; /* responder: peer's SPIi → IkeSa, while half-open */
  GHashTable *by_spi_i;  /* responder: peer's SPIi → IkeSa from its IKE_SA_INIT */
  GPtrArray *dead;       /* DEAD SAs, freed after the current input */
  IkeTimers *timers;     /* deadlines of by_handle's SAs */
  GHashTable *live;      /* IkeConfig → number of its counted SAs */
  GQueue outputs;        /* IkeOutput */
  IkeSaHandle last_handle;
  guint cookie_threshold, half_open_max;
  gint64 half_open_timeout;
  guint8 secret[COOKIE_SECRET_LEN], old_secret[COOKIE_SECRET_LEN];
  guint8 secret_version;
  gboolean have_secret;
  gint64 secret_since;
  gint64 log_window, now;
  guint log_count, log_suppressed;
  /* Wall clock minus monotonic clock, as the host last told us. */
  gint64 wall_offset;
  gboolean have_wall;
};

IkeEngine *
ike_engine_new (IkeConfigLookupFunc lookup, gpointer user_data, GError **error)
{
  IkeEngine *engine;

  if (!ike_crypto_init (error))
    return NULL;
  engine = g_new0 (IkeEngine, 1);
  engine->lookup = lookup;
  engine->user_data = user_data;
  engine->by_spi
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) ike_sa_free);
  engine->by_handle = g_hash_table_new (g_int64_hash, g_int64_equal);
  engine->half_open = g_hash_table_new (g_int64_hash, g_int64_equal);
  engine->by_spi_i = g_hash_table_new (g_int64_hash, g_int64_equal);
  engine->dead = g_ptr_array_new_with_free_func ((GDestroyNotify) ike_sa_free);
  engine->timers = ike_timers_new ();
  engine->live = g_hash_table_new (NULL, NULL);
  g_queue_init (&engine->outputs);
  engine->cookie_threshold = DEFAULT_COOKIE_THRESHOLD;
  engine->half_open_max = DEFAULT_HALF_OPEN_MAX;
  engine->half_open_timeout = DEFAULT_HALF_OPEN_TIMEOUT;
  return engine;
}

static void
output_free (gpointer data)
{
  ike_output_clear (data);
  g_free (data);
}

void
ike_engine_free (IkeEngine *engine)
{
  if (engine == NULL)
    return;
  g_hash_table_destroy (engine->half_open);
  g_hash_table_destroy (engine->by_spi_i);
  g_hash_table_destroy (engine->by_handle);
  g_hash_table_destroy (engine->by_spi);
  g_ptr_array_unref (engine->dead);
  ike_timers_free (engine->timers);
  g_queue_clear_full (&engine->outputs, output_free);
  g_hash_table_destroy (engine->live);
  ike_memzero (engine->secret, sizeof engine->secret);
  ike_memzero (engine->old_secret, sizeof engine->old_secret);
  g_free (engine);
}

void
ike_engine_set_half_open (IkeEngine *engine, guint cookie_threshold, guint max, gint64 timeout_us)
{
  engine->cookie_threshold = cookie_threshold;
  engine->half_open_max = max;
  engine->half_open_timeout = timeout_us;
}

void
ike_engine_set_wall_clock (IkeEngine *engine, gint64 now, gint64 wall_us)
{
  engine->wall_offset = wall_us - now;
  engine->have_wall = TRUE;
}

gboolean
ike_engine_wall_time (IkeEngine *engine, gint64 *wall_us)
{
  if (!engine->have_wall)
    return FALSE;
  *wall_us = engine->now + engine->wall_offset;
  return TRUE;
}

guint
ike_engine_cookie_threshold (IkeEngine *engine)
{
  return engine->cookie_threshold;
}

guint
ike_engine_half_open_max (IkeEngine *engine)
{
  return engine->half_open_max;
}

gint64
ike_engine_half_open_timeout (IkeEngine *engine)
{
  return engine->half_open_timeout;
}

guint
ike_engine_count_half_open (IkeEngine *engine)
{
  return g_hash_table_size (engine->half_open);
}

guint
ike_engine_count_sas (IkeEngine *engine)
{
  return g_hash_table_size (engine->by_spi);
}

IkeSaHandle
ike_engine_new_handle (IkeEngine *engine)
{
  return ++engine->last_handle;
}

gint64
ike_engine_now (IkeEngine *engine)
{
  return engine->now;
}

void
ike_engine_begin (IkeEngine *engine, gint64 now)
{
  engine->now = now;
}

/* ---- Outputs ---- */

static IkeOutput *
push_output (IkeEngine *engine, IkeOutputKind kind)
{
  IkeOutput *output = g_new0 (IkeOutput, 1);

  output->kind = kind;
  g_queue_push_tail (&engine->outputs, output);
  return output;
}

void
ike_engine_emit_send (IkeEngine *engine, const IkeEnds *ends, GBytes *data)
{
  IkeOutput *output = push_output (engine, IKE_OUTPUT_SEND);

  output->ends = *ends;
  output->data = g_bytes_ref (data);
}

void
ike_engine_emit_event (IkeEngine *engine, IkeEvent *event)
{
  IkeOutput *output = push_output (engine, IKE_OUTPUT_EVENT);

  output->event = *event;
  memset (event, 0, sizeof *event);
}

void
ike_engine_emit_kernel (IkeEngine *engine, IkeKernelRequest *request)
{
  IkeOutput *output = push_output (engine, IKE_OUTPUT_KERNEL);

  output->kernel = *request;
  memset (request, 0, sizeof *request);
}

void
ike_engine_emit_packets (IkeEngine *engine, const IkeEnds *ends, GPtrArray *packets)
{
  for (guint i = 0; i < packets->len; i++)
    ike_engine_emit_send (engine, ends, packets->pdata[i]);
}

gboolean
ike_engine_next_output (IkeEngine *engine, IkeOutput *out)
{
  IkeOutput *output = g_queue_pop_head (&engine->outputs);

  if (output == NULL)
    return FALSE;
  *out = *output;
  g_free (output);
  return TRUE;
}

void
ike_output_clear (IkeOutput *output)
{
  g_clear_pointer (&output->data, g_bytes_unref);
  g_clear_pointer (&output->event.config, g_free);
  g_clear_pointer (&output->event.reason, g_free);
  g_clear_pointer (&output->event.local_id, g_bytes_unref);
  g_clear_pointer (&output->event.remote_id, g_bytes_unref);
  g_clear_pointer (&output->kernel.encr_in, ike_secret_free);
  g_clear_pointer (&output->kernel.integ_in, ike_secret_free);
  g_clear_pointer (&output->kernel.encr_out, ike_secret_free);
  g_clear_pointer (&output->kernel.integ_out, ike_secret_free);
}

/* ---- Addresses and logging ---- */

const guint8 *
ike_addr_bytes (const struct sockaddr_storage *addr, gsize *len, guint16 *port)
{
  if (addr->ss_family == AF_INET)
    {
      const struct sockaddr_in *in = (const struct sockaddr_in *) addr;

      *len = 4;
      *port = g_ntohs (in->sin_port);
      return (const guint8 *) &in->sin_addr;
    }
  if (addr->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;

      *len = 16;
      *port = g_ntohs (in6->sin6_port);
      return (const guint8 *) &in6->sin6_addr;
    }
  *len = 0;
  *port = 0;
  return NULL;
}

gboolean
ike_ends_equal (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  gsize alen, blen;
  guint16 aport, bport;
  const guint8 *abytes = ike_addr_bytes (a, &alen, &aport);
  const guint8 *bbytes = ike_addr_bytes (b, &blen, &bport);

  return abytes != NULL && bbytes != NULL && alen == blen && aport == bport
         && memcmp (abytes, bbytes, alen) == 0;
}

char *
ike_ends_describe (const struct sockaddr_storage *addr)
{
  gsize len;
  guint16 port;
  const guint8 *bytes = ike_addr_bytes (addr, &len, &port);
  char text[INET6_ADDRSTRLEN];

  if (bytes == NULL || inet_ntop (addr->ss_family, bytes, text, sizeof text) == NULL)
    return g_strdup ("(unknown address)");
  return len == 4 ? g_strdup_printf ("%s:%u", text, port) : g_strdup_printf ("[%s]:%u", text, port);
}

/* Whatever a peer sends, it can make us log at most LOG_PER_WINDOW lines a
 * second; the rest is counted and the count logged once. */
void
ike_engine_reject (IkeEngine *engine, const IkeEnds *ends, const char *format, ...)
{
  g_autofree char *peer = ike_ends_describe (&ends->remote);
  g_autofree char *reason = NULL;
  va_list args;

  if (engine->now - engine->log_window >= LOG_WINDOW)
    {
      if (engine->log_suppressed > 0)
        g_message ("IKE: %u more rejected messages not logged", engine->log_suppressed);
      engine->log_window = engine->now;
      engine->log_count = 0;
      engine->log_suppressed = 0;
    }
  if (engine->log_count++ >= LOG_PER_WINDOW)
    {
      engine->log_suppressed++;
      return;
    }
  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_message ("IKE: from %s: %s", peer, reason);
}

IkeConfig *
ike_engine_lookup (IkeEngine *engine, const IkeEnds *ends, const IkeIdentity *peer)
{
  g_autoptr (GError) error = NULL;
  IkeConfig *config;

  if (engine->lookup == NULL)
    return NULL;
  config = engine->lookup (ends, peer, engine->user_data);
  if (config != NULL && !ike_config_check (config, &error))
    {
      g_warning ("IKE: configuration refused: %s", error->message);
      g_clear_pointer (&config, ike_config_unref);
    }
  return config;
}

/* ---- The SA tables ---- */

void
ike_engine_register_sa (IkeEngine *engine, IkeSa *sa)
{
  g_hash_table_insert (engine->by_spi, &sa->our_spi, sa);
  g_hash_table_insert (engine->by_handle, &sa->handle, sa);
  sa->timer_due = G_MAXINT64;
  ike_engine_touch (engine, sa);
}

void
ike_engine_touch (IkeEngine *engine, IkeSa *sa)
{
  ike_timers_touch (engine->timers, sa);
}

void
ike_engine_register_half_open (IkeEngine *engine, IkeSa *sa, gboolean half_open)
{
  if (half_open)
    g_hash_table_insert (engine->half_open, &sa->spi_i, sa);
  else if (g_hash_table_lookup (engine->half_open, &sa->spi_i) == sa)
    g_hash_table_remove (engine->half_open, &sa->spi_i);
}

IkeSa *
ike_engine_find_half_open (IkeEngine *engine, guint64 spi_i, const IkeEnds *ends)
{
  IkeSa *sa = g_hash_table_lookup (engine->half_open, &spi_i);

  if (sa == NULL || !ike_ends_equal (&sa->ends.remote, &ends->remote))
    return NULL;
  ike_engine_touch (engine, sa);
  return sa;
}

void
ike_engine_register_spi_i (IkeEngine *engine, IkeSa *sa)
{
  g_hash_table_insert (engine->by_spi_i, &sa->spi_i, sa);
}

IkeSa *
ike_engine_find_by_spi_i (IkeEngine *engine, guint64 spi_i, const IkeEnds *ends)
{
  IkeSa *sa = g_hash_table_lookup (engine->by_spi_i, &spi_i);

  if (sa == NULL || !ike_ends_equal (&sa->ends.remote, &ends->remote))
    return NULL;
  ike_engine_touch (engine, sa);
  return sa;
}

IkeSa *
ike_engine_find_handle (IkeEngine *engine, IkeSaHandle handle)
{
  IkeSa *sa = g_hash_table_lookup (engine->by_handle, &handle);

  ike_engine_touch (engine, sa);
  return sa;
}

void
ike_engine_foreach_sa (IkeEngine *engine, void (*func) (IkeSa *sa, gpointer data), gpointer data)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  /* A copy: @func may end SAs, which unlinks them from the table. */
  g_hash_table_iter_init (&iter, engine->by_handle);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);
  for (guint i = 0; i < all->len; i++)
    if (((IkeSa *) all->pdata[i])->state != IKE_STATE_DEAD)
      func (all->pdata[i], data);
}

/* Each config's live SAs (neither tombstones nor buried) are counted, so
 * that INITIAL_CONTACT's "no other SA with this peer" is a lookup rather
 * than a walk over every SA for each initiation. */
void
ike_engine_count_sa (IkeEngine *engine, IkeSa *sa, gboolean live)
{
  guint n;

  if (sa->config == NULL || sa->counted == live)
    return;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (engine->live, sa->config));
  n = live ? n + 1 : n - 1;
  if (n == 0)
    g_hash_table_remove (engine->live, sa->config);
  else
    g_hash_table_insert (engine->live, sa->config, GUINT_TO_POINTER (n));
  sa->counted = live;
}

guint
ike_engine_live_sas (IkeEngine *engine, IkeConfig *config)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (engine->live, config));
}

void
ike_engine_bury (IkeEngine *engine, IkeSa *sa)
{
  ike_engine_count_sa (engine, sa, FALSE);
  ike_engine_register_half_open (engine, sa, FALSE);
  if (g_hash_table_lookup (engine->by_spi_i, &sa->spi_i) == sa)
    g_hash_table_remove (engine->by_spi_i, &sa->spi_i);
  g_hash_table_remove (engine->by_handle, &sa->handle);
  g_hash_table_steal (engine->by_spi, &sa->our_spi);
  g_ptr_array_add (engine->dead, sa);
}

void
ike_engine_sweep (IkeEngine *engine)
{
  g_ptr_array_set_size (engine->dead, 0);
}

/* ---- Cookies (RFC 7296 §2.6) ---- */

static void
rotate_secret (IkeEngine *engine, gint64 now)
{
  if (engine->have_secret && now - engine->secret_since < COOKIE_ROTATE)
    return;
  memcpy (engine->old_secret, engine->secret, sizeof engine->secret);
  if (!ike_random_bytes (engine->secret, sizeof engine->secret, NULL))
    g_error ("IKE: no random bytes for the cookie secret");
  engine->secret_version++;
  engine->secret_since = now;
  engine->have_secret = TRUE;
}

/* Hash(Ni | IPi | SPIi | secret), in front of it the secret's version. */
static gboolean
cookie_hash (const guint8 *secret, GBytes *ni, const IkeEnds *ends, guint64 spi_i,
             guint8 hash[COOKIE_HASH_LEN])
{
  gsize addr_len;
  guint16 port;
  const guint8 *addr = ike_addr_bytes (&ends->remote, &addr_len, &port);
  guint64 spi_be = GUINT64_TO_BE (spi_i);
  g_autoptr (GByteArray) input = g_byte_array_new ();
  SECStatus status;

  g_byte_array_append (input, g_bytes_get_data (ni, NULL), g_bytes_get_size (ni));
  g_byte_array_append (input, addr, addr_len);
  g_byte_array_append (input, (const guint8 *) &spi_be, sizeof spi_be);
  g_byte_array_append (input, secret, COOKIE_SECRET_LEN);
  status = PK11_HashBuf (SEC_OID_SHA256, hash, input->data, input->len);
  ike_memzero (input->data, input->len);
  return status == SECSuccess;
}

GBytes *
ike_engine_make_cookie (IkeEngine *engine, gint64 now, GBytes *ni, const IkeEnds *ends,
                        guint64 spi_i)
{
  guint8 cookie[COOKIE_LEN];

  rotate_secret (engine, now);
  cookie[0] = engine->secret_version;
  if (!cookie_hash (engine->secret, ni, ends, spi_i, cookie + 1))
    return NULL;
  return g_bytes_new (cookie, sizeof cookie);
}

gboolean
ike_engine_check_cookie (IkeEngine *engine, gint64 now, GBytes *ni, const IkeEnds *ends,
                         guint64 spi_i, const IkeSlice *cookie)
{
  guint8 hash[COOKIE_HASH_LEN];
  const guint8 *secret;

  rotate_secret (engine, now);
  if (cookie->len != COOKIE_LEN)
    return FALSE;
  if (cookie->data[0] == engine->secret_version)
    secret = engine->secret;
  else if (cookie->data[0] == (guint8) (engine->secret_version - 1))
    secret = engine->old_secret;
  else
    return FALSE;
  return cookie_hash (secret, ni, ends, spi_i, hash)
         && NSS_SecureMemcmp (hash, cookie->data + 1, sizeof hash) == 0;
}

/* ---- Lookup of a received message's SA ---- */

IkeSa *
ike_engine_find_sa (IkeEngine *engine, const IkeHeader *hdr)
{
  gboolean from_initiator = (hdr->flags & IKE_FLAG_INITIATOR) != 0;
  guint64 ours = from_initiator ? hdr->spi_r : hdr->spi_i;
  IkeSa *sa = g_hash_table_lookup (engine->by_spi, &ours);

  /* Our SPI must name an SA in which we play the role the flag implies. */
  if (sa == NULL || sa->initiator == from_initiator || (from_initiator && sa->spi_i != hdr->spi_i))
    return NULL;
  ike_engine_touch (engine, sa);
  return sa;
}

gboolean
ike_engine_initiate (IkeEngine *engine, gint64 now, IkeConfig *config, const IkeEnds *ends,
                     IkeSaHandle *handle, GError **error)
{
  IkeSa *sa;

  engine->now = now;
  if (!ike_config_check (config, error))
    return FALSE;
  sa = ike_sa_new (engine, TRUE, ends, error);
  if (sa == NULL)
    return FALSE;
  ike_sa_set_config (sa, config);
  ike_engine_register_sa (engine, sa);
  if (!ike_init_start (sa, now, error))
    {
      ike_engine_bury (engine, sa);
      ike_engine_sweep (engine);
      return FALSE;
    }
  if (handle != NULL)
    *handle = sa->handle;
  return TRUE;
}

gboolean
ike_engine_delete (IkeEngine *engine, gint64 now, IkeSaHandle handle, GError **error)
{
  IkeSa *sa = ike_engine_find_handle (engine, handle);
  gboolean ok = TRUE;

  engine->now = now;
  if (sa == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_NOT_FOUND,
                   "no IKE SA %" G_GUINT64_FORMAT, handle);
      return FALSE;
    }
  if (sa->state == IKE_STATE_ESTABLISHED)
    ok = ike_info_start_delete (sa, now, error);
  else if (sa->state != IKE_STATE_DELETING)
    ike_sa_fail (sa, "deleted locally before it was up", 0, FALSE);
  ike_engine_sweep (engine);
  return ok;
}

void
ike_engine_tick (IkeEngine *engine, gint64 now)
{
  g_autoptr (GPtrArray) due = g_ptr_array_new ();

  engine->now = now;
  ike_timers_take_due (engine->timers, engine->by_handle, now, due);
  for (guint i = 0; i < due->len; i++)
    ike_sa_tick (due->pdata[i], now);
  ike_engine_sweep (engine);
}

gint64
ike_engine_next_deadline (IkeEngine *engine)
{
  return ike_timers_next (engine->timers, engine->by_handle);
}
