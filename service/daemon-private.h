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

typedef struct _IpsecdOe IpsecdOe; /* daemon-oe.c */

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
  IpsecdOe *oe;            /* daemon-oe.c; NULL without a kernel driver */
  gboolean no_esp_logged;  /* it will not change: said once */
  guint timer;             /* the engine's deadline */
  gint64 timer_at;
  /* the peer of the datagram being handled: whom a new SA is with */
  const struct sockaddr_storage *current_peer;
  guint stop_timer;
  gboolean stopping;
  GPtrArray *restarts; /* connection names: dpd-action=restart, at restart_idle */
  guint restart_idle;
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

/* daemon.c: initiate connection NAME again soon (its peer is gone and its
 * dpd-action is restart), outside the drain that reported it. */
void ipsecd_daemon_restart_later (IpsecdDaemon *daemon, const char *name);

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
/* daemon-leftovers.c: removes the Child SA policies and SAs of a killed
 * ipsecd; once at start, after ipsecd_kernel_open. */
void ipsecd_leftovers_remove (IpsecdDaemon *daemon);
void ipsecd_kernel_close (IpsecdDaemon *daemon);
const char *ipsecd_kernel_install (IpsecdDaemon *daemon, const IkeKernelRequest *k);
void ipsecd_kernel_remove (IpsecdDaemon *daemon, const IkeKernelRequest *k);
/* IKE_MOVED: the IKE SA's Child SAs are rekeyed onto its new ends. */
void ipsecd_kernel_moved (IpsecdDaemon *daemon, const IkeEvent *ev);
/* IKE_UP of a rekeyed IKE SA: its Child SAs pass to the new handle. */
void ipsecd_kernel_ike_rekeyed (IpsecdDaemon *daemon, IkeSaHandle old_sa, IkeSaHandle new_sa);

typedef struct
{
  guint64 bytes_in, bytes_out, packets_in, packets_out;
} IpsecdCounters;

/* The kernel's counters of the installed Child SA with inbound SPI_IN;
 * FALSE when the kernel cannot tell. */
gboolean ipsecd_kernel_counters (IpsecdDaemon *daemon, guint32 spi_in, IpsecdCounters *counters);

/* daemon-nss.c: opens (or creates, mode 0700, empty password) the NSS
 * database sql:STATE_DIR/nss; before anything else uses NSS. */
gboolean ipsecd_nss_open (const char *state_dir, GError **error);

/* daemon.c */
/* g_get_monotonic_time () for an engine input; tells the engine the wall
 * clock first (certificate validity). */
gint64 ipsecd_daemon_now (IpsecdDaemon *daemon);
void ipsecd_daemon_sa_gone (IpsecdDaemon *daemon, IkeSaHandle handle);
/* The timer to the engine's next deadline, after an input. */
void ipsecd_daemon_rearm (IpsecdDaemon *daemon);
/* Logs an ike-failed event when it fails. */
gboolean ipsecd_daemon_initiate (IpsecdDaemon *daemon, StoreConnection *conn, GError **error);
/* Deletes the connection's established IKE SAs; how many. */
guint ipsecd_daemon_delete_sas (IpsecdDaemon *daemon, const char *name);
/* What SIGHUP does. */
void ipsecd_daemon_reload (IpsecdDaemon *daemon);

/* daemon-oe.c: opportunistic encryption (service/policy/ wired to the
 * kernel and the engine).  get_policies: every group line in effect, as
 * a(ss) (group, entry), floating.  set_policy: replaces GROUP's lines,
 * writes policies/GROUP and applies it; IPSEC_ERROR_INVALID_SETTING names
 * the first bad entry and nothing changes. */
/* open after the kernel driver and the engine; close before the driver */
void ipsecd_oe_open (IpsecdDaemon *daemon);
void ipsecd_oe_close (IpsecdDaemon *daemon);
/* What SIGHUP does to the groups and <config-dir>/oe.conf. */
void ipsecd_oe_reload (IpsecdDaemon *daemon);
/* The responder's config for a peer no connection matches, or NULL. */
IkeConfig *ipsecd_oe_lookup (IpsecdDaemon *daemon, const IkeEnds *ends);
/* Every engine event, with its SA's connection name (only oe-* concern it);
 * TRUE when the name is an OE instance's. */
gboolean ipsecd_oe_event (IpsecdDaemon *daemon, const char *name, const IkeEvent *ev,
                          gboolean failed_install);
/* The seq of the ACQUIRE an instance answers (0: none), for its outbound
 * SA, so that the kernel retires the larval SA at once. */
guint32 ipsecd_oe_acquire_seq (IpsecdDaemon *daemon, const char *name);
GVariant *ipsecd_oe_get_policies (IpsecdDaemon *daemon);
gboolean ipsecd_oe_set_policy (IpsecdDaemon *daemon, const char *group, const char *const *entries,
                               GError **error);

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
