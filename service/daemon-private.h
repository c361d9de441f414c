/* What the parts of the daemon (daemon*.c) share; nothing outside them. */
#pragma once

#include <stdio.h>

#include "daemon.h"
#include "ike-engine.h"
#include "net-socket.h"
#include "store.h"

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
  GPtrArray *connections; /* StoreConnection */
  GHashTable *sas;        /* &IpsecdSa.handle → IpsecdSa */
  GArray *failed_installs; /* IpsecdFailedInstall: Child SAs never installed */
  FILE *record;            /* --record-kernel */
  guint timer;             /* the engine's deadline */
  gint64 timer_at;
  /* the peer of the datagram being handled: whom a new SA is with */
  const struct sockaddr_storage *current_peer;
  guint stop_timer;
  gboolean stopping;
};

typedef struct
{
  IkeSaHandle sa;
  guint32 spi_in;
} IpsecdFailedInstall;

/* daemon-output.c */
void ipsecd_daemon_drain (IpsecdDaemon *daemon);
IpsecdSa *ipsecd_daemon_track (IpsecdDaemon *daemon, IkeSaHandle handle, const char *name,
                               const struct sockaddr_storage *peer);
char *ipsecd_suite_format (const IkeSuite *suite, IkeProtocolId protocol);
char *ipsecd_addr_format (const struct sockaddr_storage *addr, gboolean port);

/* daemon.c */
void ipsecd_daemon_sa_gone (IpsecdDaemon *daemon, IkeSaHandle handle);

G_END_DECLS
