/* net-probe: exercises service/net/ on the wire for the netns suite.
 *
 *   net-probe serve PORT [--natt]         echo every IKE datagram back
 *   net-probe send ADDR PORT [--natt] [--plain] [--timeout-ms N]
 *
 * `send` exits 0 when the echo came back, 3 on timeout.  --plain uses an
 * ordinary UDP socket without the bypass policy (the control case). */
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net-socket.h"

static const char probe[] = "ipsecd-net-probe";

static void
on_datagram (NetSocket *sock, const guint8 *data, gsize len, const NetEndpoints *ends,
             gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *from = net_sockaddr_to_string (&ends->remote);
  g_autofree char *to = net_sockaddr_to_string (&ends->local);
  NetEndpoints back = { .local = ends->local, .remote = ends->remote };

  g_print ("received %zu bytes from %s at %s\n", len, from, to);
  if (!net_socket_send (sock, data, len, &back, &error))
    g_printerr ("echo failed: %s\n", error->message);
}

static gboolean
on_term (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
serve (guint16 port, gboolean natt)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (NetIo) io = net_io_new (on_datagram, NULL);

  for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0)
    {
      NetSocket *sock = net_socket_new (family, port, natt, &error);

      if (sock == NULL)
        {
          g_printerr ("net-probe: %s\n", error->message);
          return 1;
        }
      net_io_add (io, sock);
    }
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_print ("ready\n");
  g_main_loop_run (loop);
  return 0;
}

/* The control: a socket without our bypass policy, as any program has. */
static int
plain_socket (int family)
{
  return socket (family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
}

static int
wait_echo (int fd, int timeout_ms, gboolean natt)
{
  guint8 buf[256];
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  ssize_t n;
  gsize skip = natt ? 4 : 0;

  if (poll (&pfd, 1, timeout_ms) <= 0)
    {
      g_print ("no echo within %d ms\n", timeout_ms);
      return 3;
    }
  n = recv (fd, buf, sizeof buf, 0);
  if (n != (ssize_t) (sizeof probe + skip) || memcmp (buf + skip, probe, sizeof probe) != 0)
    {
      g_print ("unexpected reply of %zd bytes\n", n);
      return 1;
    }
  g_print ("echo received\n");
  return 0;
}

static int
send_probe (const char *addr, guint16 port, gboolean natt, gboolean plain, int timeout_ms)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NetSocket) sock = NULL;
  NetEndpoints ends = { 0 };
  int fd;

  if (!net_sockaddr_parse (addr, port, &ends.remote, &error))
    {
      g_printerr ("net-probe: %s\n", error->message);
      return 2;
    }
  if (plain)
    {
      guint8 framed[sizeof probe + 4] = { 0 };
      gsize skip = natt ? 4 : 0;

      fd = plain_socket (ends.remote.ss_family);
      memcpy (framed + skip, probe, sizeof probe);
      if (sendto (fd, framed, sizeof probe + skip, 0, (struct sockaddr *) &ends.remote,
                  sizeof ends.remote)
          < 0)
        g_print ("send failed: %s\n", g_strerror (errno));
      return wait_echo (fd, timeout_ms, natt);
    }
  sock = net_socket_new (ends.remote.ss_family, 0, natt, &error);
  if (sock == NULL || !net_socket_send (sock, (const guint8 *) probe, sizeof probe, &ends, &error))
    {
      g_printerr ("net-probe: %s\n", error->message);
      return 1;
    }
  fd = net_socket_get_fd (sock);
  return wait_echo (fd, timeout_ms, natt);
}

int
main (int argc, char **argv)
{
  gboolean natt = FALSE, plain = FALSE;
  int timeout_ms = 2000;
  GOptionEntry entries[] = {
    { "natt", 0, 0, G_OPTION_ARG_NONE, &natt, "NAT-T framing (non-ESP marker)", NULL },
    { "plain", 0, 0, G_OPTION_ARG_NONE, &plain, "no bypass policy", NULL },
    { "timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout_ms, "how long to wait", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("serve PORT | send ADDR PORT");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("net-probe: %s\n", error->message);
      return 2;
    }
  if (argc == 3 && g_str_equal (argv[1], "serve"))
    return serve (atoi (argv[2]), natt);
  if (argc == 4 && g_str_equal (argv[1], "send"))
    return send_probe (argv[2], atoi (argv[3]), natt, plain, timeout_ms);
  g_printerr ("usage: net-probe serve PORT | send ADDR PORT\n");
  return 2;
}
