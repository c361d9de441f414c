/* Socket address helpers: the engine and the logs speak in these. */
#include "net-socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

guint16
net_sockaddr_get_port (const struct sockaddr_storage *addr)
{
  if (addr->ss_family == AF_INET6)
    return ntohs (((const struct sockaddr_in6 *) addr)->sin6_port);
  return ntohs (((const struct sockaddr_in *) addr)->sin_port);
}

void
net_sockaddr_set_port (struct sockaddr_storage *addr, guint16 port)
{
  if (addr->ss_family == AF_INET6)
    ((struct sockaddr_in6 *) addr)->sin6_port = htons (port);
  else
    ((struct sockaddr_in *) addr)->sin_port = htons (port);
}

gboolean
net_sockaddr_parse (const char *text, guint16 port, struct sockaddr_storage *addr, GError **error)
{
  memset (addr, 0, sizeof *addr);
  if (inet_pton (AF_INET, text, &((struct sockaddr_in *) addr)->sin_addr) == 1)
    addr->ss_family = AF_INET;
  else if (inet_pton (AF_INET6, text, &((struct sockaddr_in6 *) addr)->sin6_addr) == 1)
    addr->ss_family = AF_INET6;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IPv4 or IPv6 address", text);
      return FALSE;
    }
  net_sockaddr_set_port (addr, port);
  return TRUE;
}

/* "192.0.2.1:500" or "[2001:db8::1]:500" */
char *
net_sockaddr_to_string (const struct sockaddr_storage *addr)
{
  char text[INET6_ADDRSTRLEN] = "?";

  if (addr->ss_family == AF_INET6)
    {
      inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) addr)->sin6_addr, text, sizeof text);
      return g_strdup_printf ("[%s]:%u", text, net_sockaddr_get_port (addr));
    }
  inet_ntop (AF_INET, &((const struct sockaddr_in *) addr)->sin_addr, text, sizeof text);
  return g_strdup_printf ("%s:%u", text, net_sockaddr_get_port (addr));
}
