/* service/net/: the UDP sockets IKE travels on (DESIGN.md §4).
 *
 * A NetSocket is one UDP socket on port 500 (plain IKE) or 4500 (NAT-T: IKE
 * behind the 4-byte non-ESP marker, ESP-in-UDP decapsulated by the kernel),
 * for IPv4 or IPv6.  Every socket carries a per-socket bypass policy in both
 * directions, so IKE itself is never caught by an IPsec policy — including
 * the trap and drop policies of opportunistic encryption.  A NetIo owns the
 * set of sockets and feeds received datagrams to a callback on the GLib main
 * loop. */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define NET_IKE_PORT 500
#define NET_NATT_PORT 4500
/* Large enough for any IKE datagram we accept (fragments or not). */
#define NET_MAX_DATAGRAM 65535

/* Where a datagram came from and arrived at; a reply swaps the two. */
typedef struct
{
  struct sockaddr_storage local;
  struct sockaddr_storage remote;
} NetEndpoints;

typedef struct _NetSocket NetSocket;

NetSocket *net_socket_new (int family, guint16 port, gboolean natt, GError **error);
void net_socket_free (NetSocket *sock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetSocket, net_socket_free)

int net_socket_get_fd (NetSocket *sock);
int net_socket_get_family (NetSocket *sock);
guint16 net_socket_get_port (NetSocket *sock);
gboolean net_socket_is_natt (NetSocket *sock);

gssize net_socket_receive (NetSocket *sock, guint8 *buf, gsize size, NetEndpoints *ends,
                           GError **error);
gboolean net_socket_send (NetSocket *sock, const guint8 *data, gsize len, const NetEndpoints *ends,
                          GError **error);

/* Helpers for addresses. */
guint16 net_sockaddr_get_port (const struct sockaddr_storage *addr);
void net_sockaddr_set_port (struct sockaddr_storage *addr, guint16 port);
gboolean net_sockaddr_parse (const char *text, guint16 port, struct sockaddr_storage *addr,
                             GError **error);
char *net_sockaddr_to_string (const struct sockaddr_storage *addr);

typedef struct _NetIo NetIo;

/* Called for every IKE datagram (the non-ESP marker already stripped). */
typedef void (*NetReceiveFunc) (NetSocket *sock, const guint8 *data, gsize len,
                                const NetEndpoints *ends, gpointer user_data);

NetIo *net_io_new (NetReceiveFunc func, gpointer user_data);
void net_io_free (NetIo *io);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetIo, net_io_free)
void net_io_add (NetIo *io, NetSocket *sock);
NetSocket *net_io_lookup (NetIo *io, int family, gboolean natt);

G_END_DECLS
