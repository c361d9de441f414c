/* UDP sockets for IKE: bypass policies, NAT-T framing, source addresses. */
#include "net-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

struct _NetSocket
{
  int fd;
  int family;
  guint16 port;
  gboolean natt;
};

static const guint8 non_esp_marker[4] = { 0, 0, 0, 0 };

static gboolean
set_error_errno (GError **error, int errsv, const char *what, const NetSocket *sock)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s (UDP %u, %s): %s", what,
               sock->port, sock->family == AF_INET6 ? "IPv6" : "IPv4", g_strerror (errsv));
  return FALSE;
}

static gboolean
set_int_option (NetSocket *sock, int level, int name, int value, const char *what, GError **error)
{
  if (setsockopt (sock->fd, level, name, &value, sizeof value) < 0)
    return set_error_errno (error, errno, what, sock);
  return TRUE;
}

/* A per-socket policy that allows everything, in and out: socket policies
 * are consulted before the global ones, so IKE packets are never caught by
 * an "encrypt everything" or a drop policy that we install ourselves. */
static gboolean
set_bypass (NetSocket *sock, GError **error)
{
  int level = sock->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  int name = sock->family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;

  for (guint8 dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++)
    {
      struct xfrm_userpolicy_info pol = { 0 };

      pol.sel.family = sock->family;
      pol.dir = dir;
      pol.action = XFRM_POLICY_ALLOW;
      pol.lft.soft_byte_limit = pol.lft.hard_byte_limit = XFRM_INF;
      pol.lft.soft_packet_limit = pol.lft.hard_packet_limit = XFRM_INF;
      if (setsockopt (sock->fd, level, name, &pol, sizeof pol) < 0)
        return set_error_errno (error, errno,
                                "cannot set the IKE bypass policy (needs CAP_NET_ADMIN)", sock);
    }
  return TRUE;
}

static gboolean
bind_any (NetSocket *sock, GError **error)
{
  struct sockaddr_storage addr = { 0 };
  socklen_t len = sizeof addr;

  addr.ss_family = sock->family;
  net_sockaddr_set_port (&addr, sock->port);
  if (bind (sock->fd, (struct sockaddr *) &addr, len) < 0)
    return set_error_errno (error, errno, "cannot bind", sock);
  /* Port 0 asks the kernel for one (tests); learn which. */
  if (getsockname (sock->fd, (struct sockaddr *) &addr, &len) < 0)
    return set_error_errno (error, errno, "cannot read the bound address", sock);
  sock->port = net_sockaddr_get_port (&addr);
  return TRUE;
}

static gboolean
configure (NetSocket *sock, GError **error)
{
  gboolean v6 = sock->family == AF_INET6;

  if (!set_int_option (sock, SOL_SOCKET, SO_REUSEADDR, 1, "cannot set SO_REUSEADDR", error))
    return FALSE;
  if (v6 && !set_int_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, "cannot set IPV6_V6ONLY", error))
    return FALSE;
  /* The local address a request arrived at is the source of our reply. */
  if (!set_int_option (sock, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, 1,
                       "cannot ask for packet info", error))
    return FALSE;
  if (!set_bypass (sock, error))
    return FALSE;
  if (!bind_any (sock, error))
    return FALSE;
  /* ESP-in-UDP arriving here is decapsulated by the kernel; only IKE (behind
   * the zero marker) and keepalives reach us. */
  if (sock->natt
      && !set_int_option (sock, IPPROTO_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP,
                          "cannot enable UDP encapsulation of ESP", error))
    return FALSE;
  return TRUE;
}

NetSocket *
net_socket_new (int family, guint16 port, gboolean natt, GError **error)
{
  g_autoptr (NetSocket) sock = g_new0 (NetSocket, 1);

  g_return_val_if_fail (family == AF_INET || family == AF_INET6, NULL);
  sock->family = family;
  sock->port = port;
  sock->natt = natt;
  sock->fd = socket (family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (sock->fd < 0)
    {
      set_error_errno (error, errno, "cannot create a socket", sock);
      return NULL;
    }
  if (!configure (sock, error))
    return NULL;
  return g_steal_pointer (&sock);
}

void
net_socket_free (NetSocket *sock)
{
  if (sock == NULL)
    return;
  if (sock->fd >= 0)
    close (sock->fd);
  g_free (sock);
}

int
net_socket_get_fd (NetSocket *sock)
{
  return sock->fd;
}

int
net_socket_get_family (NetSocket *sock)
{
  return sock->family;
}

guint16
net_socket_get_port (NetSocket *sock)
{
  return sock->port;
}

gboolean
net_socket_is_natt (NetSocket *sock)
{
  return sock->natt;
}

static void
read_pktinfo (NetSocket *sock, struct msghdr *msg, struct sockaddr_storage *local)
{
  memset (local, 0, sizeof *local);
  local->ss_family = sock->family;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c != NULL; c = CMSG_NXTHDR (msg, c))
    {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
        {
          struct in_pktinfo info;

          memcpy (&info, CMSG_DATA (c), sizeof info);
          ((struct sockaddr_in *) local)->sin_addr = info.ipi_addr;
        }
      else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
        {
          struct in6_pktinfo info;

          memcpy (&info, CMSG_DATA (c), sizeof info);
          ((struct sockaddr_in6 *) local)->sin6_addr = info.ipi6_addr;
        }
    }
  net_sockaddr_set_port (local, sock->port);
}

/* On the NAT-T port, IKE sits behind four zero bytes; a lone 0xff is a
 * keepalive (RFC 3948 §2.3).  Returns the IKE length, or 0 to ignore. */
static gsize
strip_marker (guint8 *buf, gsize len)
{
  if (len < sizeof non_esp_marker || memcmp (buf, non_esp_marker, sizeof non_esp_marker) != 0)
    return 0;
  len -= sizeof non_esp_marker;
  memmove (buf, buf + sizeof non_esp_marker, len);
  return len;
}

/* Returns the datagram's length, 0 when there is nothing (more) to read or
 * the datagram is not IKE, -1 with error set on a socket error. */
gssize
net_socket_receive (NetSocket *sock, guint8 *buf, gsize size, NetEndpoints *ends, GError **error)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = size };
  struct msghdr msg = {
    .msg_name = &ends->remote,
    .msg_namelen = sizeof ends->remote,
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  ssize_t n = recvmsg (sock->fd, &msg, MSG_DONTWAIT);

  if (n < 0)
    {
      if (errno == EAGAIN || errno == EINTR)
        return 0;
      set_error_errno (error, errno, "cannot receive", sock);
      return -1;
    }
  if (msg.msg_flags & MSG_TRUNC)
    return 0; /* larger than any IKE message we accept */
  read_pktinfo (sock, &msg, &ends->local);
  return sock->natt ? (gssize) strip_marker (buf, n) : n;
}

static gsize
add_source (NetSocket *sock, const struct sockaddr_storage *local, char *control)
{
  struct cmsghdr *c = (struct cmsghdr *) control;

  if (sock->family == AF_INET)
    {
      struct in_pktinfo info = { 0 };

      info.ipi_spec_dst = ((const struct sockaddr_in *) local)->sin_addr;
      if (info.ipi_spec_dst.s_addr == htonl (INADDR_ANY))
        return 0;
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN (sizeof info);
      memcpy (CMSG_DATA (c), &info, sizeof info);
      return CMSG_SPACE (sizeof info);
    }
  else
    {
      struct in6_pktinfo info = { 0 };

      info.ipi6_addr = ((const struct sockaddr_in6 *) local)->sin6_addr;
      if (IN6_IS_ADDR_UNSPECIFIED (&info.ipi6_addr))
        return 0;
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN (sizeof info);
      memcpy (CMSG_DATA (c), &info, sizeof info);
      return CMSG_SPACE (sizeof info);
    }
}

/* Sends from ends->local (when set) to ends->remote. */
gboolean
net_socket_send (NetSocket *sock, const guint8 *data, gsize len, const NetEndpoints *ends,
                 GError **error)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (struct in6_pktinfo))];
    struct cmsghdr align;
  } control = { 0 };
  struct iovec iov[2] = {
    { .iov_base = (void *) non_esp_marker, .iov_len = sizeof non_esp_marker },
    { .iov_base = (void *) data, .iov_len = len },
  };
  struct msghdr msg = {
    .msg_name = (void *) &ends->remote,
    .msg_namelen = ends->remote.ss_family == AF_INET6 ? sizeof (struct sockaddr_in6)
                                                      : sizeof (struct sockaddr_in),
    .msg_iov = sock->natt ? iov : iov + 1,
    .msg_iovlen = sock->natt ? 2 : 1,
    .msg_control = control.buf,
  };

  if (ends->remote.ss_family != sock->family)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "cannot send to an address of another family on this socket");
      return FALSE;
    }
  msg.msg_controllen = add_source (sock, &ends->local, control.buf);
  if (msg.msg_controllen == 0)
    msg.msg_control = NULL;
  if (sendmsg (sock->fd, &msg, MSG_DONTWAIT) < 0)
    return set_error_errno (error, errno, "cannot send", sock);
  return TRUE;
}
