/* What the parts of the daemon (daemon*.c) share; nothing outside them. */
#pragma once

#include <stdio.h>

#include "bus.h"
#include "daemon.h"
#include "ike-engine.h"
#include "net-socket.h"
#include "store.h"
#include "xfrm.h"

G_BEGIN_DECLS

/* An IKE SA the daemon knows of, by the engine's handle. */
typedef struct
{
  IkeSaHandle handle;
  char *name; /* the connection; NULL until the engine names it */
  struct sockaddr_storage peer;
  gboolean up;
  gboolean deleting;
} IpsecdSa;

struct _IpsecdDaemon
{
  IpsecdOptions options;
  GMainLoop *loop;
  NetIo *io;
  IkeEngine *engine;
  GPtrArray *connections;  /* StoreConnection */
  GHashTable *sas;         /* &IpsecdSa.handle → IpsecdSa */
  GArray *failed_installs; /* IpsecdFailedInstall: Child SAs never installed */
  FILE *record;            /* --record-kernel */
  XfrmDriver *xfrm;        /* NULL when recording or unavailable */
  GHashTable *children;    /* &spi_in → installed Child SA (daemon-kernel.c) */
  guint32 next_reqid;      /* ours, for the next Child SA */
  gboolean no_esp_logged;  /* it will not change: said once */
  guint timer;             /* the engine's deadline */
  gint64 timer_at;
  /* the peer of the datagram being handled: whom a new SA is with */
  const struct sockaddr_storage *current_peer;
  guint stop_timer;
  gboolean stopping;
  /* --bus (daemon-bus.c); NULL with --bus=none */
  BusService *bus;
  GHashTable *child_ts; /* spi_in → (local-ts, remote-ts) until its child-up */
  guint sa_count;
  guint64 established_total, failed_total;
  int status; /* of ipsecd_daemon_run() */
};

typedef struct
{
  IkeSaHandle sa;
  guint32 spi_in;
  const char *reason; /* static or translated: not freed */
} IpsecdFailedInstall;

/* daemon-output.c */
void ipsecd_daemon_drain (IpsecdDaemon *daemon);
IpsecdSa *ipsecd_daemon_track (IpsecdDaemon *daemon, IkeSaHandle handle, const char *name,
                               const struct sockaddr_storage *peer);
char *ipsecd_suite_format (const IkeSuite *suite, IkeProtocolId protocol);
char *ipsecd_addr_format (const struct sockaddr_storage *addr, gboolean port);
char *ipsecd_id_format (IkeIdType type, GBytes *data);
const char *ipsecd_auth_name (IkeAuthMethod method);

/* daemon-kernel.c: Child SAs into the kernel through the XFRM driver.
 * open logs once when the driver cannot be had; install returns NULL on
 * success, else the reason for the Child SA's child-failed event. */
void ipsecd_kernel_open (IpsecdDaemon *daemon);
void ipsecd_kernel_close (IpsecdDaemon *daemon);
const char *ipsecd_kernel_install (IpsecdDaemon *daemon, const IkeKernelRequest *k);
void ipsecd_kernel_remove (IpsecdDaemon *daemon, const IkeKernelRequest *k);

/* daemon.c */
void ipsecd_daemon_sa_gone (IpsecdDaemon *daemon, IkeSaHandle handle);
/* Logs an ike-failed event when it fails. */
gboolean ipsecd_daemon_initiate (IpsecdDaemon *daemon, StoreConnection *conn, GError **error);
/* Deletes the connection's established IKE SAs; how many. */
guint ipsecd_daemon_delete_sas (IpsecdDaemon *daemon, const char *name);
/* What SIGHUP does. */
void ipsecd_daemon_reload (IpsecdDaemon *daemon);

/* daemon-bus.c: the daemon as org.libreswan.IPsec; each does nothing
 * without a bus. */
gboolean ipsecd_daemon_bus_start (IpsecdDaemon *daemon, GError **error);
void ipsecd_daemon_bus_stop (IpsecdDaemon *daemon);
/* The Connection objects after the connections changed. */
void ipsecd_daemon_bus_sync (IpsecdDaemon *daemon);
/* SA is the event's; FAILED_INSTALL the reason when a child-up is really
 * a child-failed (no kernel SA). */
void ipsecd_daemon_bus_event (IpsecdDaemon *daemon, IpsecdSa *sa, const IkeEvent *ev,
                              const char *failed_install);
void ipsecd_daemon_bus_kernel (IpsecdDaemon *daemon, const IkeKernelRequest *k);
void ipsecd_daemon_bus_state (IpsecdDaemon *daemon, const char *name, const char *state,
                              const char *last_error);

G_END_DECLS
