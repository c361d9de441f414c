/* IpsecdDaemon: the running service.  It owns the main loop, the IKE
 * sockets (service/net), the IKEv2 engine (service/ike) with its one
 * deadline timer, and the connections loaded from the config directory
 * (service/store).  Datagrams go into the engine; what comes out is sent,
 * logged as structured events, or handed to the kernel (DESIGN.md §4). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char *config_dir;  /* connections/, secrets/ */
  char *state_dir;   /* the NSS database sql:<state_dir>/nss */
  char *runtime_dir; /* not used yet */
  guint16 ike_port;  /* 500 */
  guint16 natt_port; /* 4500 */
  /* TEST ONLY: append kernel requests to this file as JSON lines instead of
   * sending them to the kernel (docs/ipsecd.conf.5.md). */
  char *record_kernel;
  /* --bus: where to own org.libreswan.IPsec; G_BUS_TYPE_NONE for no bus
   * (signals and log only, as before the bus API) */
  GBusType bus;
} IpsecdOptions;

typedef struct _IpsecdDaemon IpsecdDaemon;

/* Opens the sockets and loads the connections; does not initiate yet. */
IpsecdDaemon *ipsecd_daemon_new (const IpsecdOptions *options, GError **error);
void ipsecd_daemon_free (IpsecdDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IpsecdDaemon, ipsecd_daemon_free)

/* Initiates auto=start connections, then runs until SIGTERM or SIGINT has
 * deleted the IKE SAs.  Returns the exit status. */
int ipsecd_daemon_run (IpsecdDaemon *daemon);

/* Log lines on stderr: the message, then the structured fields that tests
 * and admins grep for (IPSECD_EVENT="ike-up" ...); the journal gets the
 * fields as fields when stderr is connected to it. */
GLogWriterOutput ipsecd_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                    gpointer user_data);

G_END_DECLS
