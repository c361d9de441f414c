/* What the engine asks for after each input: datagrams to send, events to
 * log, kernel requests to carry out (or, in the test-only recording mode,
 * to write down).  Events become one structured log line each, with the
 * fields tests and admins grep for (docs/ipsecd.conf.5.md, "Log events"). */
#include "config.h"

#include "daemon-private.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <string.h>

#include "ike-msg.h"

/* ---- formatting ---- */

char *
ipsecd_addr_format (const struct sockaddr_storage *addr, gboolean port)
{
  char text[INET6_ADDRSTRLEN] = "%any";
  gboolean v6 = addr->ss_family == AF_INET6;

  if (addr->ss_family == 0)
    return g_strdup (text);
  inet_ntop (addr->ss_family,
             v6 ? (const void *) &((const struct sockaddr_in6 *) addr)->sin6_addr
                : (const void *) &((const struct sockaddr_in *) addr)->sin_addr,
             text, sizeof text);
  if (!port)
    return g_strdup (text);
  return g_strdup_printf (v6 ? "[%s]:%u" : "%s:%u", text, net_sockaddr_get_port (addr));
}

static void
add_transform (IkeProposal *p, guint8 type, guint16 id, guint16 key_length)
{
  p->transforms[p->n_transforms++] = (IkeTransform){ type, id, key_length };
}

/* The suite in proposal syntax (ike-proposal.h), e.g.
 * "aes_gcm16_256-prfsha256-x25519". */
char *
ipsecd_suite_format (const IkeSuite *suite, IkeProtocolId protocol)
{
  IkeProposal p = { .number = 1, .protocol = protocol };
  char *text;

  add_transform (&p, IKE_TRANSFORM_ENCR, suite->encr, suite->key_bits);
  if (suite->prf != 0)
    add_transform (&p, IKE_TRANSFORM_PRF, suite->prf, 0);
  if (suite->integ != IKE_INTEG_NONE)
    add_transform (&p, IKE_TRANSFORM_INTEG, suite->integ, 0);
  if (suite->ke != IKE_KE_NONE)
    add_transform (&p, IKE_TRANSFORM_KE, suite->ke, 0);
  if (protocol == IKE_PROTO_ESP)
    add_transform (&p, IKE_TRANSFORM_ESN, suite->esn, 0);
  text = ike_proposal_format (&p);
  return text != NULL ? text : g_strdup ("?");
}

const char *
ipsecd_auth_name (IkeAuthMethod method)
{
  switch ((int) method)
    {
    case IKE_AUTH_SHARED_KEY:
      return "psk";
    case IKE_AUTH_NULL:
      return "null";
    case 0:
      return "none";
    default:
      return "pubkey";
    }
}

/* An identity for people: "192.0.2.1", "@host.example", "%null". */
char *
ipsecd_id_format (IkeIdType type, GBytes *data)
{
  gsize len = 0;
  const guint8 *bytes = data != NULL ? g_bytes_get_data (data, &len) : NULL;
  char text[INET6_ADDRSTRLEN] = "";
  char *dn;

  if (type == IKE_ID_NULL || type == 0)
    return g_strdup (type == 0 ? "%any" : "%null");
  if ((type == IKE_ID_IPV4_ADDR && len == 4) || (type == IKE_ID_IPV6_ADDR && len == 16))
    return g_strdup (inet_ntop (len == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text));
  if (type == IKE_ID_DER_ASN1_DN && (dn = store_format_dn (bytes, len)) != NULL)
    return dn;
  if (type == IKE_ID_FQDN || type == IKE_ID_RFC822_ADDR)
    {
      g_autofree char *raw = g_strndup ((const char *) bytes, len);
      /* the peer chose these bytes: never let them into the log raw */
      g_autofree char *safe = g_strescape (raw, NULL);

      return g_strdup_printf ("%s%s", type == IKE_ID_FQDN ? "@" : "", safe);
    }
  return g_strdup_printf ("(%s, %zu bytes)", ike_id_type_name (type), len);
}

/* ---- tracking SAs ---- */

IpsecdSa *
ipsecd_daemon_track (IpsecdDaemon *daemon, IkeSaHandle handle, const char *name,
                     const struct sockaddr_storage *peer)
{
  IpsecdSa *sa = g_hash_table_lookup (daemon->sas, &handle);

  if (sa == NULL)
    {
      sa = g_new0 (IpsecdSa, 1);
      sa->handle = handle;
      g_hash_table_insert (daemon->sas, &sa->handle, sa);
    }
  if (sa->name == NULL && name != NULL)
    sa->name = g_strdup (name);
  if (sa->peer.ss_family == 0 && peer != NULL)
    sa->peer = *peer;
  return sa;
}

/* ---- events ---- */

static const char *const event_names[] = {
  [IKE_EVENT_IKE_UP] = "ike-up",
  [IKE_EVENT_IKE_FAILED] = "ike-failed",
  [IKE_EVENT_IKE_DOWN] = "ike-down",
  [IKE_EVENT_CHILD_UP] = "child-up",
  [IKE_EVENT_CHILD_FAILED] = "child-failed",
  [IKE_EVENT_CHILD_DOWN] = "child-down",
  [IKE_EVENT_IKE_MOVED] = "ike-moved",
};

typedef struct
{
  GLogField fields[24];
  gsize n;
  GPtrArray *owned; /* strings the fields point to */
} EventLine;

static void
field (EventLine *line, const char *key, const char *value)
{
  if (value == NULL || line->n == G_N_ELEMENTS (line->fields))
    return;
  line->fields[line->n++] = (GLogField){ key, value, -1 };
}

static void
field_take (EventLine *line, const char *key, char *value)
{
  g_ptr_array_add (line->owned, value);
  field (line, key, value);
}

/* Why the Child SA of this child-up was not installed; NULL if it was. */
static const char *
install_failed (IpsecdDaemon *daemon, const IkeEvent *ev)
{
  for (guint i = 0; i < daemon->failed_installs->len; i++)
    {
      IpsecdFailedInstall *f = &g_array_index (daemon->failed_installs, IpsecdFailedInstall, i);

      if (f->sa == ev->sa && f->spi_in == ev->spi_in)
        {
          const char *reason = f->reason;

          g_array_remove_index_fast (daemon->failed_installs, i);
          return reason;
        }
    }
  return NULL;
}

static void
describe_ike_up (EventLine *line, const IkeEvent *ev, const char *name, const char *peer)
{
  g_autofree char *suite = ipsecd_suite_format (&ev->ike, IKE_PROTO_IKE);
  g_autofree char *remote_id = ipsecd_id_format (ev->remote_id_type, ev->remote_id);

  field_take (line, "MESSAGE",
              g_strdup_printf (_ ("IKE SA “%s” established with %s as %s: %s, auth %s/%s, "
                                  "peer %s %s"),
                               name, peer, ev->initiator ? "initiator" : "responder", suite,
                               ipsecd_auth_name (ev->local_auth),
                               ipsecd_auth_name (ev->remote_auth), remote_id,
                               ev->authenticated ? "authenticated" : "anonymous"));
  field_take (line, "IPSECD_IKE", g_steal_pointer (&suite));
  field (line, "IPSECD_ROLE", ev->initiator ? "initiator" : "responder");
  field (line, "IPSECD_LOCAL_AUTH", ipsecd_auth_name (ev->local_auth));
  field (line, "IPSECD_REMOTE_AUTH", ipsecd_auth_name (ev->remote_auth));
  field_take (line, "IPSECD_LOCAL_ID", ipsecd_id_format (ev->local_id_type, ev->local_id));
  field_take (line, "IPSECD_REMOTE_ID", g_steal_pointer (&remote_id));
  field (line, "IPSECD_AUTHENTICATED", ev->authenticated ? "yes" : "no");
}

static void
describe_child (EventLine *line, const IkeEvent *ev, const char *event, const char *name,
                const char *peer, const char *reason)
{
  g_autofree char *suite = ipsecd_suite_format (&ev->esp, IKE_PROTO_ESP);

  if (g_str_equal (event, "child-up"))
    field_take (line, "MESSAGE",
                g_strdup_printf (_ ("Child SA of “%s” with %s up: %s, %s mode, SPIs in %08x "
                                    "out %08x"),
                                 name, peer, suite,
                                 ev->mode == IKE_MODE_TRANSPORT ? "transport" : "tunnel",
                                 ev->spi_in, ev->spi_out));
  else
    field_take (line, "MESSAGE",
                g_strdup_printf (g_str_equal (event, "child-down")
                                     ? _ ("Child SA of “%s” with %s down: %s")
                                     : _ ("Child SA of “%s” with %s failed: %s"),
                                 name, peer, reason != NULL ? reason : "-"));
  if (ev->spi_in != 0)
    {
      field_take (line, "IPSECD_ESP", g_steal_pointer (&suite));
      field_take (line, "IPSECD_SPI_IN", g_strdup_printf ("%08x", ev->spi_in));
      field_take (line, "IPSECD_SPI_OUT", g_strdup_printf ("%08x", ev->spi_out));
    }
}

static void
describe_end (EventLine *line, const IkeEvent *ev, const char *event, const char *name,
              const char *peer)
{
  const char *reason = ev->reason != NULL ? ev->reason : "-";

  if (g_str_equal (event, "ike-failed"))
    field_take (line, "MESSAGE",
                g_strdup_printf (_ ("IKE SA “%s” with %s failed: %s"), name, peer, reason));
  else
    field_take (line, "MESSAGE",
                g_strdup_printf (_ ("IKE SA “%s” with %s down: %s"), name, peer, reason));
}

/* A kind this build does not know (a newer engine) is logged, not indexed
 * past the table. */
static const char *
event_name (IkeEventKind kind)
{
  if ((guint) kind < G_N_ELEMENTS (event_names) && event_names[kind] != NULL)
    return event_names[kind];
  return "ike-event";
}

static gboolean
is_child_event (IkeEventKind kind)
{
  return kind == IKE_EVENT_CHILD_UP || kind == IKE_EVENT_CHILD_FAILED
         || kind == IKE_EVENT_CHILD_DOWN;
}

/* The peer's NAT mapping changed: the IKE SA follows it, and its Child SAs
 * are rekeyed onto the new ends (ipsecd_kernel_moved). */
static void
describe_moved (EventLine *line, IpsecdSa *sa, const IkeEvent *ev, const char *name)
{
  g_autofree char *to = ipsecd_addr_format (&ev->ends.remote, TRUE);

  sa->peer = ev->ends.remote;
  field_take (line, "MESSAGE", g_strdup_printf (_ ("IKE SA “%s” moved to %s"), name, to));
}

static void
log_event (IpsecdDaemon *daemon, const IkeEvent *ev)
{
  IpsecdSa *sa = ipsecd_daemon_track (daemon, ev->sa, ev->config, daemon->current_peer);
  const char *event = event_name (ev->kind);
  const char *name = sa->name != NULL ? sa->name : "?";
  g_autofree char *peer = ipsecd_addr_format (&sa->peer, TRUE);
  EventLine line = { .owned = g_ptr_array_new_with_free_func (g_free) };
  const char *failed_reason = ev->kind == IKE_EVENT_CHILD_UP ? install_failed (daemon, ev) : NULL;
  gboolean failed_install = failed_reason != NULL;
  const char *reason = failed_install ? failed_reason : ev->reason;

  if (failed_install)
    event = "child-failed";
  if (ev->kind == IKE_EVENT_IKE_UP)
    describe_ike_up (&line, ev, name, peer);
  else if (ev->kind == IKE_EVENT_IKE_MOVED)
    describe_moved (&line, sa, ev, name);
  else if (is_child_event (ev->kind))
    describe_child (&line, ev, event, name, peer, reason);
  else
    describe_end (&line, ev, event, name, peer);
  field (&line, "IPSECD_EVENT", event);
  field (&line, "IPSECD_CONNECTION", name);
  field (&line, "IPSECD_PEER", peer);
  field_take (&line, "IPSECD_SA", g_strdup_printf ("%" G_GUINT64_FORMAT, ev->sa));
  field (&line, "IPSECD_REASON", reason);
  if (ev->notify != 0)
    {
      field (&line, "IPSECD_NOTIFY", ike_notify_name (ev->notify));
      field (&line, "IPSECD_NOTIFY_FROM", ev->notify_from_peer ? "peer" : "us");
    }
  if (ev->peer_gone)
    field (&line, "IPSECD_PEER_GONE", "yes");
  field (&line, "PRIORITY", ev->kind == IKE_EVENT_IKE_FAILED || failed_install ? "4" : "5");
  g_log_structured_array (ev->kind == IKE_EVENT_IKE_FAILED || failed_install ? G_LOG_LEVEL_WARNING
                                                                             : G_LOG_LEVEL_MESSAGE,
                          line.fields, line.n);
  g_ptr_array_unref (line.owned);
  ipsecd_daemon_bus_event (daemon, sa, ev, failed_install ? reason : NULL);
  /* The peer believes the Child SA is up: delete it there too.  An OE
   * instance ends its whole IKE SA instead (daemon-oe.c). */
  if (!ipsecd_oe_event (daemon, sa->name, ev, failed_install) && failed_install)
    ike_engine_delete_child (daemon->engine, ipsecd_daemon_now (daemon), ev->sa, ev->spi_in, NULL);
  if (ev->kind == IKE_EVENT_IKE_MOVED)
    ipsecd_kernel_moved (daemon, ev);
  if (ev->kind == IKE_EVENT_IKE_UP && ev->ike_replaces != 0)
    ipsecd_kernel_ike_rekeyed (daemon, ev->ike_replaces, ev->sa);
  if (ev->kind == IKE_EVENT_IKE_UP)
    sa->up = TRUE;
  if (ev->kind == IKE_EVENT_IKE_DOWN && ev->peer_gone && ev->action == IKE_PEER_GONE_RESTART
      && sa->name != NULL)
    ipsecd_daemon_restart_later (daemon, sa->name);
  if (ev->kind == IKE_EVENT_IKE_FAILED || ev->kind == IKE_EVENT_IKE_DOWN)
    ipsecd_daemon_sa_gone (daemon, ev->sa);
}

/* ---- kernel requests ---- */

static void
ts_json (GString *out, const IkeTs *ts, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      int family = ts[i].type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : AF_INET;
      char start[INET6_ADDRSTRLEN], end[INET6_ADDRSTRLEN];

      inet_ntop (family, ts[i].start, start, sizeof start);
      inet_ntop (family, ts[i].end, end, sizeof end);
      g_string_append_printf (out,
                              "%s{\"start\":\"%s\",\"end\":\"%s\",\"proto\":%u,"
                              "\"ports\":[%u,%u]}",
                              i > 0 ? "," : "", start, end, ts[i].ip_proto, ts[i].start_port,
                              ts[i].end_port);
    }
}

/* One JSON line per request, without any key: what would be installed. */
static void
record_kernel (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  IpsecdSa *sa = ipsecd_daemon_track (daemon, k->sa, NULL, NULL);
  g_autofree char *src = ipsecd_addr_format (&k->ends.local, FALSE);
  g_autofree char *dst = ipsecd_addr_format (&k->ends.remote, FALSE);
  g_autofree char *esp = ipsecd_suite_format (&k->esp, IKE_PROTO_ESP);
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append_printf (
      out,
      "{\"op\":\"%s\",\"sa\":%" G_GUINT64_FORMAT ",\"connection\":\"%s\",\"src\":\"%s\","
      "\"dst\":\"%s\",\"protocol\":\"%s\",\"mode\":\"%s\",\"spi_in\":\"%08x\","
      "\"spi_out\":\"%08x\",\"esp\":\"%s\",\"encr\":%u,\"key_bits\":%u,\"integ\":%u,"
      "\"esn\":%u,\"ts_local\":[",
      k->op == IKE_KERNEL_INSTALL ? "install" : "remove", k->sa, sa->name ? sa->name : "", src, dst,
      ike_protocol_name (k->protocol), k->mode == IKE_MODE_TRANSPORT ? "transport" : "tunnel",
      k->spi_in, k->spi_out, esp, k->esp.encr, k->esp.key_bits, k->esp.integ, k->esp.esn);
  ts_json (out, k->ts_local, k->n_ts_local);
  g_string_append (out, "],\"ts_remote\":[");
  ts_json (out, k->ts_remote, k->n_ts_remote);
  g_string_append (out, "]}\n");
  if (fputs (out->str, daemon->record) == EOF || fflush (daemon->record) != 0)
    g_warning (_ ("cannot write to the kernel record file %s"), daemon->options.record_kernel);
}

static void
handle_kernel (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  IpsecdFailedInstall failed = { k->sa, k->spi_in, NULL };

  ipsecd_daemon_bus_kernel (daemon, k);
  if (daemon->record != NULL)
    {
      record_kernel (daemon, k);
      return;
    }
  if (k->op != IKE_KERNEL_INSTALL)
    {
      ipsecd_kernel_remove (daemon, k);
      return;
    }
  failed.reason = ipsecd_kernel_install (daemon, k);
  if (failed.reason == NULL)
    return;
  /* Make the Child SA's event a failure rather than pretend that traffic
   * is protected. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "kernel-failed", "MESSAGE",
                    _ ("Child SA %08x/%08x not installed: %s"), k->spi_in, k->spi_out,
                    failed.reason);
  g_array_append_val (daemon->failed_installs, failed);
}

/* ---- sending ---- */

static void
send_datagram (IpsecdDaemon *daemon, const IkeOutput *out)
{
  guint16 port = net_sockaddr_get_port (&out->ends.local);
  gboolean natt = port != daemon->options.ike_port
                  && (port == daemon->options.natt_port || port == NET_NATT_PORT);
  NetSocket *sock = net_io_lookup (daemon->io, out->ends.remote.ss_family, natt);
  NetEndpoints ends = { out->ends.local, out->ends.remote };
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (out->data, &len);

  if (sock == NULL)
    {
      g_autofree char *to = ipsecd_addr_format (&out->ends.remote, TRUE);

      g_warning (_ ("no socket to send to %s from (local port %u)"), to, port);
      return;
    }
  if (!net_socket_send (sock, data, len, &ends, &error))
    g_warning ("%s", error->message);
}

/* Datagrams go out after the batch's kernel requests: a responder's
 * IKE_AUTH or CREATE_CHILD_SA answer comes out of the engine before the
 * Child SA it installs, and a fast initiator would otherwise send ESP that
 * arrives before our inbound SA exists. */
void
ipsecd_daemon_drain (IpsecdDaemon *daemon)
{
  g_auto (IkeOutput) out = { 0 };
  g_autoptr (GArray) sends = g_array_new (FALSE, FALSE, sizeof (IkeOutput));

  while (ike_engine_next_output (daemon->engine, &out))
    {
      if (out.kind == IKE_OUTPUT_SEND)
        {
          g_array_append_val (sends, out);
          out = (IkeOutput){ 0 }; /* the array owns it now */
          continue;
        }
      if (out.kind == IKE_OUTPUT_EVENT)
        log_event (daemon, &out.event);
      else
        handle_kernel (daemon, &out.kernel);
      ike_output_clear (&out);
    }
  for (guint i = 0; i < sends->len; i++)
    {
      IkeOutput *send = &g_array_index (sends, IkeOutput, i);

      send_datagram (daemon, send);
      ike_output_clear (send);
    }
}
