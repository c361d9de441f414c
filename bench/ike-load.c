/* ike-load: the benchmark's IKE initiator (bench/README.md).  It is NOT the
 * side being measured: it drives a responder (ipsecd or strongSwan's charon)
 * with many IKE SAs at once, the way strongSwan's load-tester plugin does
 * (Debian does not ship that plugin).  It links the daemon's own engine,
 * UDP layer and connection-file parser, so the same initiator, with the
 * same cost per SA, talks to both responders.
 *
 *   ike-load CONFIG_DIR CONN_FILE SOURCE...
 *
 * CONN_FILE is an ipsecd connection file (docs/ipsecd.conf.5.md) read
 * against CONFIG_DIR (secrets/NAME.psk); its `remote` is the responder.
 * Each SOURCE is a local address (or FIRST-LAST, IPv4, one /16 at most);
 * SAs are started from them in turn, all from UDP port 500.  Commands,
 * one per line on stdin:
 *
 *   run N INFLIGHT   start N IKE SAs, at most INFLIGHT unfinished at a
 *                    time; prints one JSON line when the last is up or
 *                    failed: {"n":..,"up":..,"failed":..,"seconds":..,
 *                    "rate":..,"p50_ms":..,"p99_ms":..,"first_error":..}
 *   quit             exit at once, deleting nothing: the responder keeps
 *                    its SAs (no DPD), which the memory rows rely on
 *
 * SAs that came up stay up (the engine keeps them; no rekey: the bench's
 * connection files set no lifetimes shorter than the run). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike-engine.h"
#include "net-socket.h"
#include "store.h"

typedef struct
{
  GMainLoop *loop;
  IkeEngine *engine;
  NetIo *io;
  StoreConnection *conn;
  GArray *sources; /* struct sockaddr_storage, port 500 */
  guint next_source;
  guint timer;
  gint64 timer_at;
  GString *input;
  /* the run in progress */
  gboolean running;
  guint target, inflight_max, started, up, failed;
  gint64 t0;
  GHashTable *pending; /* handle → start time (gint64 *) */
  GArray *latencies;   /* gint64 µs */
  char *first_error;
} Load;

/* ---- sources ---- */

static gboolean
add_range (GArray *out, const char *text, GError **error)
{
  g_auto (GStrv) ends = g_strsplit (text, "-", 2);
  struct in_addr first, last;
  guint32 a, b;

  if (g_strv_length (ends) != 2 || inet_pton (AF_INET, ends[0], &first) != 1
      || inet_pton (AF_INET, ends[1], &last) != 1
      || (a = ntohl (first.s_addr)) > (b = ntohl (last.s_addr)) || b - a >= 65536)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad source range “%s”: want FIRST-LAST, IPv4, at most 65536 addresses", text);
      return FALSE;
    }
  for (guint32 x = a; x <= b; x++)
    {
      struct sockaddr_storage ss = { 0 };
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (x);
      sin->sin_port = htons (NET_IKE_PORT);
      g_array_append_val (out, ss);
    }
  return TRUE;
}

static gboolean
parse_sources (GArray *out, char **args, GError **error)
{
  for (guint i = 0; args[i] != NULL; i++)
    {
      struct sockaddr_storage ss;

      if (strchr (args[i], '-') != NULL && strchr (args[i], ':') == NULL)
        {
          if (!add_range (out, args[i], error))
            return FALSE;
          continue;
        }
      if (!net_sockaddr_parse (args[i], NET_IKE_PORT, &ss, error))
        return FALSE;
      g_array_append_val (out, ss);
    }
  if (out->len > 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no source address given");
  return FALSE;
}

/* ---- the engine on the main loop (as service/daemon.c does) ---- */

static gboolean on_deadline (gpointer user_data);

static void
rearm (Load *load)
{
  gint64 deadline = ike_engine_next_deadline (load->engine);
  gint64 now = g_get_monotonic_time ();

  if (load->timer != 0 && load->timer_at == deadline)
    return;
  g_clear_handle_id (&load->timer, g_source_remove);
  load->timer_at = 0;
  if (deadline == G_MAXINT64)
    return;
  load->timer = g_timeout_add (deadline > now ? (guint) ((deadline - now + 999) / 1000) : 0,
                               on_deadline, load);
  load->timer_at = deadline;
}

static void start_more (Load *load);

static void
finish_one (Load *load, const IkeEvent *ev)
{
  gint64 *started = g_hash_table_lookup (load->pending, &ev->sa);
  gint64 latency;

  if (started == NULL)
    return; /* an SA of an earlier run going down: not ours to count */
  latency = g_get_monotonic_time () - *started;
  g_hash_table_remove (load->pending, &ev->sa);
  if (ev->kind == IKE_EVENT_IKE_UP)
    {
      load->up++;
      g_array_append_val (load->latencies, latency);
    }
  else
    {
      load->failed++;
      if (load->first_error == NULL)
        load->first_error = g_strdup (ev->reason != NULL ? ev->reason : "failed");
    }
}

static void
send_datagram (Load *load, const IkeOutput *out)
{
  NetSocket *sock = net_io_lookup (load->io, out->ends.remote.ss_family, FALSE);
  NetEndpoints ends = { out->ends.local, out->ends.remote };
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (out->data, &len);

  if (net_sockaddr_get_port (&out->ends.local) != NET_IKE_PORT)
    return; /* no NAT between the bench hosts: 4500 never comes up */
  if (sock != NULL && !net_socket_send (sock, data, len, &ends, &error))
    g_printerr ("ike-load: %s\n", error->message);
}

static void
drain (Load *load)
{
  g_auto (IkeOutput) out = { 0 };

  while (ike_engine_next_output (load->engine, &out))
    {
      if (out.kind == IKE_OUTPUT_SEND)
        send_datagram (load, &out);
      else if (out.kind == IKE_OUTPUT_EVENT
               && (out.event.kind == IKE_EVENT_IKE_UP || out.event.kind == IKE_EVENT_IKE_FAILED))
        finish_one (load, &out.event);
      ike_output_clear (&out);
    }
  if (load->running)
    start_more (load);
}

static gboolean
on_deadline (gpointer user_data)
{
  Load *load = user_data;

  load->timer = 0;
  load->timer_at = 0;
  ike_engine_tick (load->engine, g_get_monotonic_time ());
  drain (load);
  rearm (load);
  return G_SOURCE_REMOVE;
}

static void
on_datagram (NetSocket *sock, const guint8 *data, gsize len, const NetEndpoints *ends,
             gpointer user_data)
{
  Load *load = user_data;
  IkeEnds ike_ends = { ends->local, ends->remote };

  ike_engine_receive (load->engine, g_get_monotonic_time (), &ike_ends, data, len);
  drain (load);
  rearm (load);
}

/* The responder is found by address only; as initiator we answer no one. */
static IkeConfig *
lookup (const IkeEnds *ends, const IkeIdentity *peer, gpointer user_data)
{
  return NULL;
}

/* ---- runs ---- */

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile_ms (GArray *sorted, double p)
{
  if (sorted->len == 0)
    return 0;
  return g_array_index (sorted, gint64, MIN (sorted->len - 1, (guint) (p * sorted->len))) / 1000.0;
}

static void
report (Load *load)
{
  double seconds = (g_get_monotonic_time () - load->t0) / 1e6;
  g_autofree char *error = load->first_error != NULL ? g_strescape (load->first_error, NULL) : NULL;

  g_array_sort (load->latencies, compare_gint64);
  printf ("{\"n\":%u,\"up\":%u,\"failed\":%u,\"seconds\":%.6f,\"rate\":%.1f,\"p50_ms\":%.3f,"
          "\"p99_ms\":%.3f,\"sas\":%u,\"first_error\":%s%s%s}\n",
          load->target, load->up, load->failed, seconds, seconds > 0 ? load->up / seconds : 0,
          percentile_ms (load->latencies, 0.5), percentile_ms (load->latencies, 0.99),
          ike_engine_count_sas (load->engine), error != NULL ? "\"" : "",
          error != NULL ? error : "null", error != NULL ? "\"" : "");
  fflush (stdout);
  load->running = FALSE;
  g_clear_pointer (&load->first_error, g_free);
}

static void
start_more (Load *load)
{
  while (load->started < load->target
         && load->started - load->up - load->failed < load->inflight_max)
    {
      IkeEnds ends = { .remote = load->conn->remote };
      g_autoptr (GError) error = NULL;
      IkeSaHandle handle = 0;
      gint64 now = g_get_monotonic_time ();

      ends.local = g_array_index (load->sources, struct sockaddr_storage, load->next_source);
      load->next_source = (load->next_source + 1) % load->sources->len;
      net_sockaddr_set_port (&ends.remote, NET_IKE_PORT);
      load->started++;
      if (!ike_engine_initiate (load->engine, now, load->conn->config, &ends, &handle, &error))
        {
          load->failed++;
          if (load->first_error == NULL)
            load->first_error = g_strdup (error->message);
          continue;
        }
      g_hash_table_insert (load->pending, g_memdup2 (&handle, sizeof handle),
                           g_memdup2 (&now, sizeof now));
    }
  if (load->up + load->failed == load->target)
    report (load);
}

static void
begin (Load *load, guint n, guint inflight)
{
  load->running = TRUE;
  load->target = n;
  load->inflight_max = MAX (inflight, 1);
  load->started = load->up = load->failed = 0;
  g_array_set_size (load->latencies, 0);
  load->t0 = g_get_monotonic_time ();
  start_more (load);
  drain (load);
  rearm (load);
}

static void
command (Load *load, const char *line)
{
  guint n = 0, inflight = 0;

  if (g_str_equal (line, "quit"))
    g_main_loop_quit (load->loop);
  else if (!load->running && sscanf (line, "run %u %u", &n, &inflight) == 2 && n > 0)
    begin (load, n, inflight);
  else
    {
      printf ("{\"error\":\"bad or untimely command\"}\n");
      fflush (stdout);
    }
}

static gboolean
on_stdin (int fd, GIOCondition condition, gpointer user_data)
{
  Load *load = user_data;
  char buf[256];
  gssize n = read (fd, buf, sizeof buf);
  char *nl;

  if (n <= 0 && errno != EINTR)
    {
      g_main_loop_quit (load->loop);
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (load->input, buf, MAX (n, 0));
  while ((nl = strchr (load->input->str, '\n')) != NULL)
    {
      g_autofree char *line = g_strndup (load->input->str, nl - load->input->str);

      g_string_erase (load->input, 0, nl - load->input->str + 1);
      command (load, g_strstrip (line));
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
setup (Load *load, int argc, char **argv, GError **error)
{
  NetSocket *sock;

  if (argc < 4)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "usage: ike-load CONFIG_DIR CONN_FILE SOURCE... (see bench/README.md)");
      return FALSE;
    }
  load->conn = store_connection_load (argv[1], argv[2], error);
  if (load->conn == NULL || !parse_sources (load->sources, argv + 3, error))
    return FALSE;
  if (load->conn->remote.ss_family == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: `remote` must be the responder's address", argv[2]);
      return FALSE;
    }
  load->engine = ike_engine_new (lookup, load, error);
  if (load->engine == NULL)
    return FALSE;
  ike_engine_set_wall_clock (load->engine, g_get_monotonic_time (), g_get_real_time ());
  sock = net_socket_new (load->conn->remote.ss_family, NET_IKE_PORT, FALSE, error);
  if (sock == NULL)
    return FALSE;
  net_io_add (load->io, sock);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Load load = { 0 };
  g_autoptr (GError) error = NULL;
  int status = 0;

  load.loop = g_main_loop_new (NULL, FALSE);
  load.sources = g_array_new (FALSE, FALSE, sizeof (struct sockaddr_storage));
  load.pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  load.latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  load.input = g_string_new (NULL);
  load.io = net_io_new (on_datagram, &load);
  if (!setup (&load, argc, argv, &error))
    {
      g_printerr ("ike-load: %s\n", error->message);
      status = 1;
    }
  else
    {
      printf ("{\"ready\":true,\"sources\":%u}\n", load.sources->len);
      fflush (stdout);
      g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP, on_stdin, &load);
      g_main_loop_run (load.loop);
    }
  /* deliberately no ike_engine_free: that would not delete SAs either, and
   * exiting at once is what "quit" promises */
  fflush (stdout);
  _exit (status);
}
