/* The daemon object: sockets, engine, deadline timer, connections, signals.
 * One thread; every input (datagram, deadline, signal) is handed to the
 * engine, then the engine's outputs are drained (daemon-output.c) and the
 * one timer is moved to the engine's next deadline. */
#include "config.h"

#include "daemon-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long SIGTERM waits for the peers to answer our Deletes. */
#define STOP_GRACE_MS 2000

static void
sa_free (gpointer data)
{
  IpsecdSa *sa = data;

  g_free (sa->name);
  g_free (sa);
}

/* ---- the deadline timer ---- */

static gboolean
on_deadline (gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;

  daemon->timer = 0;
  daemon->timer_at = 0;
  ike_engine_tick (daemon->engine, ipsecd_daemon_now (daemon));
  ipsecd_daemon_drain (daemon);
  ipsecd_daemon_rearm (daemon);
  return G_SOURCE_REMOVE;
}

/* One GLib timeout, at the engine's next deadline (rounded up to the
 * millisecond, so it never fires early and spins). */
void
ipsecd_daemon_rearm (IpsecdDaemon *daemon)
{
  gint64 deadline = ike_engine_next_deadline (daemon->engine);
  gint64 now = g_get_monotonic_time ();
  gint64 delay_ms;

  if (daemon->timer != 0 && daemon->timer_at == deadline)
    return;
  if (daemon->timer != 0)
    g_source_remove (daemon->timer);
  daemon->timer = 0;
  daemon->timer_at = 0;
  if (deadline == G_MAXINT64)
    return;
  delay_ms = deadline > now ? (deadline - now + 999) / 1000 : 0;
  daemon->timer = g_timeout_add ((guint) MIN (delay_ms, G_MAXUINT), on_deadline, daemon);
  daemon->timer_at = deadline;
}

/* ---- responder: which connection is this peer? ---- */

static gboolean
same_address (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    return memcmp (&((const struct sockaddr_in *) a)->sin_addr,
                   &((const struct sockaddr_in *) b)->sin_addr, sizeof (struct in_addr))
           == 0;
  return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
                 &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof (struct in6_addr))
         == 0;
}

/* 0: no match; otherwise higher is more specific. */
static int
match_score (const StoreConnection *conn, const IkeEnds *ends, const IkeIdentity *peer)
{
  int score = 1;
  gsize len = 0;
  const guint8 *want;

  if (conn->local.ss_family != 0 && !same_address (&conn->local, &ends->local))
    return 0;
  if (conn->remote.ss_family != 0)
    {
      if (!same_address (&conn->remote, &ends->remote))
        return 0;
      score += 2;
    }
  if (peer == NULL || conn->remote_id_type == 0)
    return score;
  want = g_bytes_get_data (conn->remote_id, &len);
  if (peer->type != conn->remote_id_type
      || !ike_identity_equal (peer->type, peer->data, peer->len, want, len))
    return 0;
  return score + 1;
}

static IkeConfig *
lookup (const IkeEnds *ends, const IkeIdentity *peer, gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;
  StoreConnection *best = NULL;
  int best_score = 0;

  if (daemon->stopping)
    return NULL;
  for (guint i = 0; i < daemon->connections->len; i++)
    {
      StoreConnection *conn = g_ptr_array_index (daemon->connections, i);
      int score = match_score (conn, ends, peer);

      if (score > best_score)
        {
          best = conn;
          best_score = score;
        }
    }
  if (best != NULL)
    return ike_config_ref (best->config);
  /* no connection: perhaps an OE group covers the peer */
  return ipsecd_oe_lookup (daemon, ends);
}

/* ---- input ---- */

/* The monotonic time for an engine input, after telling the engine the
 * wall clock it checks certificates against (it may have been stepped). */
gint64
ipsecd_daemon_now (IpsecdDaemon *daemon)
{
  gint64 now = g_get_monotonic_time ();

  ike_engine_set_wall_clock (daemon->engine, now, g_get_real_time ());
  return now;
}

static void
on_datagram (NetSocket *sock, const guint8 *data, gsize len, const NetEndpoints *ends,
             gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;
  IkeEnds ike_ends = { ends->local, ends->remote };

  daemon->current_peer = &ends->remote;
  ike_engine_receive (daemon->engine, ipsecd_daemon_now (daemon), &ike_ends, data, len);
  ipsecd_daemon_drain (daemon);
  daemon->current_peer = NULL;
  ipsecd_daemon_rearm (daemon);
}

/* ---- initiating ---- */

/* The address the kernel would send from to reach REMOTE (a connected UDP
 * socket sends nothing; it only picks the route). */
static gboolean
source_for (const struct sockaddr_storage *remote, struct sockaddr_storage *local, GError **error)
{
  socklen_t len = sizeof *local;
  int fd = socket (remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int errsv = 0;

  if (fd < 0 || connect (fd, (const struct sockaddr *) remote, sizeof *remote) < 0
      || getsockname (fd, (struct sockaddr *) local, &len) < 0)
    errsv = errno;
  if (fd >= 0)
    close (fd);
  if (errsv != 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _ ("no route to the peer: %s"),
                 g_strerror (errsv));
  return errsv == 0;
}

gboolean
ipsecd_daemon_initiate (IpsecdDaemon *daemon, StoreConnection *conn, GError **error)
{
  IkeEnds ends = { conn->local, conn->remote };
  g_autoptr (GError) local_error = NULL;
  IkeSaHandle handle = 0;

  net_sockaddr_set_port (&ends.remote, NET_IKE_PORT);
  if (ends.local.ss_family == 0)
    source_for (&ends.remote, &ends.local, &local_error);
  net_sockaddr_set_port (&ends.local, daemon->options.ike_port);
  if (local_error != NULL
      || !ike_engine_initiate (daemon->engine, ipsecd_daemon_now (daemon), conn->config, &ends,
                               &handle, &local_error))
    {
      g_autofree char *peer = ipsecd_addr_format (&ends.remote, TRUE);

      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "ike-failed",
                        "IPSECD_CONNECTION", conn->name, "IPSECD_PEER", peer, "IPSECD_REASON",
                        local_error->message, "MESSAGE", _ ("IKE SA “%s” with %s failed: %s"),
                        conn->name, peer, local_error->message);
      ipsecd_daemon_bus_state (daemon, conn->name, "failed", local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  ipsecd_daemon_bus_state (daemon, conn->name, "connecting", NULL);
  ipsecd_daemon_track (daemon, handle, conn->name, &ends.remote);
  ipsecd_daemon_drain (daemon);
  ipsecd_daemon_rearm (daemon);
  return TRUE;
}

static void
start_auto (IpsecdDaemon *daemon, GPtrArray *which)
{
  for (guint i = 0; i < which->len; i++)
    {
      StoreConnection *conn = g_ptr_array_index (which, i);

      if (conn->auto_ == STORE_AUTO_START)
        ipsecd_daemon_initiate (daemon, conn, NULL);
    }
}

/* ---- connections ---- */

static GPtrArray *
load_connections (IpsecdDaemon *daemon)
{
  g_autoptr (GPtrArray) problems = NULL;
  GPtrArray *conns = store_load_all (daemon->options.config_dir, &problems);

  for (guint i = 0; i < problems->len; i++)
    {
      GError *problem = g_ptr_array_index (problems, i);

      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "config-error",
                        "MESSAGE", _ ("connection skipped: %s"), problem->message);
    }
  return conns;
}

guint
ipsecd_daemon_delete_sas (IpsecdDaemon *daemon, const char *name)
{
  GHashTableIter iter;
  IpsecdSa *sa;
  guint n = 0;

  g_hash_table_iter_init (&iter, daemon->sas);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sa))
    if (g_strcmp0 (sa->name, name) == 0 && sa->up && !sa->deleting)
      {
        sa->deleting = TRUE;
        ike_engine_delete (daemon->engine, g_get_monotonic_time (), sa->handle, NULL);
        n++;
      }
  return n;
}

static void
log_change (const char *what, const StoreConnection *conn)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "config-change",
                    "IPSECD_CONNECTION", conn->name, "IPSECD_CHANGE", what, "MESSAGE",
                    "%s: connection “%s” (%s)", what, conn->name, conn->path);
}

/* SIGHUP: connections that are gone or changed lose their SAs; new and
 * changed auto=start ones are initiated. */
void
ipsecd_daemon_reload (IpsecdDaemon *daemon)
{
  GPtrArray *fresh = load_connections (daemon);
  g_autoptr (GPtrArray) to_start = g_ptr_array_new ();

  for (guint i = 0; i < daemon->connections->len; i++)
    {
      StoreConnection *old = g_ptr_array_index (daemon->connections, i);
      StoreConnection *now = store_find (fresh, old->name);

      if (now == NULL || !g_str_equal (now->digest, old->digest))
        {
          log_change (now == NULL ? _ ("removed") : _ ("changed"), old);
          ipsecd_daemon_delete_sas (daemon, old->name);
          if (now != NULL)
            g_ptr_array_add (to_start, now);
        }
    }
  for (guint i = 0; i < fresh->len; i++)
    {
      StoreConnection *conn = g_ptr_array_index (fresh, i);

      if (store_find (daemon->connections, conn->name) == NULL)
        {
          log_change (_ ("added"), conn);
          g_ptr_array_add (to_start, conn);
        }
    }
  g_ptr_array_unref (daemon->connections);
  daemon->connections = fresh;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "reload", "MESSAGE",
                    _ ("reloaded: %u connections"), fresh->len);
  ipsecd_daemon_bus_sync (daemon);
  ipsecd_oe_reload (daemon);
  ipsecd_daemon_drain (daemon);
  start_auto (daemon, to_start);
  ipsecd_daemon_rearm (daemon);
}

static gboolean
on_sighup (gpointer user_data)
{
  ipsecd_daemon_reload (user_data);
  return G_SOURCE_CONTINUE;
}

/* ---- stopping ---- */

static gboolean
any_deleting (IpsecdDaemon *daemon)
{
  GHashTableIter iter;
  IpsecdSa *sa;

  g_hash_table_iter_init (&iter, daemon->sas);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sa))
    if (sa->deleting)
      return TRUE;
  return FALSE;
}

void
ipsecd_daemon_sa_gone (IpsecdDaemon *daemon, IkeSaHandle handle)
{
  g_hash_table_remove (daemon->sas, &handle);
  if (daemon->stopping && !any_deleting (daemon))
    g_main_loop_quit (daemon->loop);
}

/* Initiating drains the engine's outputs, so it waits until the drain
 * that reported the peer gone is over. */
static gboolean
on_restart (gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;
  g_autoptr (GPtrArray) names = g_steal_pointer (&daemon->restarts);

  daemon->restart_idle = 0;
  for (guint i = 0; i < names->len && !daemon->stopping; i++)
    for (guint j = 0; j < daemon->connections->len; j++)
      {
        StoreConnection *conn = g_ptr_array_index (daemon->connections, j);

        /* a connection without a peer address waits for the peer */
        if (g_str_equal (conn->name, g_ptr_array_index (names, i)) && conn->remote.ss_family != 0)
          ipsecd_daemon_initiate (daemon, conn, NULL);
      }
  return G_SOURCE_REMOVE;
}

void
ipsecd_daemon_restart_later (IpsecdDaemon *daemon, const char *name)
{
  if (daemon->stopping)
    return;
  if (daemon->restarts == NULL)
    daemon->restarts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (daemon->restarts, g_strdup (name));
  if (daemon->restart_idle == 0)
    daemon->restart_idle = g_idle_add (on_restart, daemon);
}

static gboolean
on_stop_grace (gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;

  daemon->stop_timer = 0;
  g_message (_ ("peers did not answer every Delete in time; stopping anyway"));
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

/* Delete every established IKE SA (the peers learn at once instead of at
 * their next DPD), wait briefly for the answers, then quit. */
static gboolean
on_stop_signal (IpsecdDaemon *daemon, int signum)
{
  GHashTableIter iter;
  IpsecdSa *sa;

  if (daemon->stopping)
    return G_SOURCE_CONTINUE;
  daemon->stopping = TRUE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "stopping", "MESSAGE",
                    _ ("stopping on %s"), g_strsignal (signum));
  g_hash_table_iter_init (&iter, daemon->sas);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sa))
    if (sa->up)
      sa->deleting = ike_engine_delete (daemon->engine, g_get_monotonic_time (), sa->handle, NULL);
  ipsecd_daemon_drain (daemon);
  ipsecd_daemon_rearm (daemon);
  if (!any_deleting (daemon))
    g_main_loop_quit (daemon->loop);
  else
    daemon->stop_timer = g_timeout_add (STOP_GRACE_MS, on_stop_grace, daemon);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  return on_stop_signal (user_data, SIGTERM);
}

static gboolean
on_sigint (gpointer user_data)
{
  return on_stop_signal (user_data, SIGINT);
}

/* ---- life ---- */

static gboolean
open_sockets (IpsecdDaemon *daemon, GError **error)
{
  static const int families[] = { AF_INET, AF_INET6 };

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    for (guint natt = 0; natt < 2; natt++)
      {
        guint16 port = natt ? daemon->options.natt_port : daemon->options.ike_port;
        g_autoptr (GError) local_error = NULL;
        NetSocket *sock = net_socket_new (families[f], port, natt, &local_error);

        if (sock != NULL)
          {
            net_io_add (daemon->io, sock);
            continue;
          }
        /* a host without IPv6 still does IKE over IPv4 */
        if (families[f] == AF_INET6
            && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
          {
            g_message ("%s", local_error->message);
            continue;
          }
        g_propagate_error (error, g_steal_pointer (&local_error));
        return FALSE;
      }
  return TRUE;
}

static gboolean
open_record (IpsecdDaemon *daemon, GError **error)
{
  if (daemon->options.record_kernel == NULL)
    return TRUE;
  daemon->record = fopen (daemon->options.record_kernel, "ae");
  if (daemon->record == NULL)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _ ("cannot open %s: %s"),
                   daemon->options.record_kernel, g_strerror (errsv));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "record-kernel", "MESSAGE",
                    _ ("TEST MODE: kernel requests are recorded to %s and NOT installed; no "
                       "traffic is protected"),
                    daemon->options.record_kernel);
  return TRUE;
}

IpsecdDaemon *
ipsecd_daemon_new (const IpsecdOptions *options, GError **error)
{
  g_autoptr (IpsecdDaemon) daemon = g_new0 (IpsecdDaemon, 1);

  daemon->options = *options;
  daemon->options.config_dir = g_strdup (options->config_dir);
  daemon->options.state_dir = g_strdup (options->state_dir);
  daemon->options.runtime_dir = g_strdup (options->runtime_dir);
  daemon->options.record_kernel = g_strdup (options->record_kernel);
  daemon->loop = g_main_loop_new (NULL, FALSE);
  daemon->sas = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, sa_free);
  daemon->failed_installs = g_array_new (FALSE, FALSE, sizeof (IpsecdFailedInstall));
  daemon->io = net_io_new (on_datagram, daemon);
  if (!ipsecd_nss_open (daemon->options.state_dir, error) || !open_record (daemon, error))
    return NULL;
  ipsecd_kernel_open (daemon);
  ipsecd_leftovers_remove (daemon);
  daemon->engine = ike_engine_new (lookup, daemon, error);
  if (daemon->engine == NULL || !open_sockets (daemon, error))
    return NULL;
  daemon->connections = load_connections (daemon);
  ipsecd_oe_open (daemon);
  if (!ipsecd_daemon_bus_start (daemon, error))
    return NULL;
  return g_steal_pointer (&daemon);
}

void
ipsecd_daemon_free (IpsecdDaemon *daemon)
{
  if (daemon == NULL)
    return;
  if (daemon->timer != 0)
    g_source_remove (daemon->timer);
  if (daemon->stop_timer != 0)
    g_source_remove (daemon->stop_timer);
  if (daemon->restart_idle != 0)
    g_source_remove (daemon->restart_idle);
  g_clear_pointer (&daemon->restarts, g_ptr_array_unref);
  ipsecd_daemon_bus_stop (daemon);
  g_clear_pointer (&daemon->io, net_io_free);
  g_clear_pointer (&daemon->engine, ike_engine_free);
  ipsecd_oe_close (daemon);
  ipsecd_kernel_close (daemon);
  g_clear_pointer (&daemon->connections, g_ptr_array_unref);
  g_clear_pointer (&daemon->sas, g_hash_table_unref);
  g_clear_pointer (&daemon->failed_installs, g_array_unref);
  g_clear_pointer (&daemon->loop, g_main_loop_unref);
  if (daemon->record != NULL)
    fclose (daemon->record);
  g_free (daemon->options.config_dir);
  g_free (daemon->options.state_dir);
  g_free (daemon->options.runtime_dir);
  g_free (daemon->options.record_kernel);
  g_free (daemon);
}

int
ipsecd_daemon_run (IpsecdDaemon *daemon)
{
  guint sources[3];

  sources[0] = g_unix_signal_add (SIGTERM, on_sigterm, daemon);
  sources[1] = g_unix_signal_add (SIGINT, on_sigint, daemon);
  sources[2] = g_unix_signal_add (SIGHUP, on_sighup, daemon);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "start", "MESSAGE",
                    _ ("ipsecd %s started: %u connections, IKE on UDP %u and %u"), PACKAGE_VERSION,
                    daemon->connections->len, daemon->options.ike_port, daemon->options.natt_port);
  start_auto (daemon, daemon->connections);
  g_main_loop_run (daemon->loop);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_source_remove (sources[i]);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "stop", "MESSAGE",
                    _ ("ipsecd stopped"));
  return daemon->status;
}
