/* NetIo: the IKE sockets on the GLib main loop. */
#include "net-socket.h"

#include <glib-unix.h>

/* Datagrams read per wake-up of one socket, so a flood on one cannot starve
 * the others or the rest of the main loop. */
#define NET_IO_BATCH 64

typedef struct
{
  NetIo *io;
  NetSocket *sock;
  guint source;
} NetIoWatch;

struct _NetIo
{
  NetReceiveFunc func;
  gpointer user_data;
  GPtrArray *watches;
  guint8 *buf;
};

static gboolean
on_readable (int fd, GIOCondition condition, gpointer user_data)
{
  NetIoWatch *watch = user_data;
  NetIo *io = watch->io;

  for (guint i = 0; i < NET_IO_BATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      NetEndpoints ends;
      gssize n = net_socket_receive (watch->sock, io->buf, NET_MAX_DATAGRAM, &ends, &error);

      if (n < 0)
        {
          g_warning ("%s", error->message);
          break;
        }
      if (n == 0)
        break;
      io->func (watch->sock, io->buf, n, &ends, io->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static void
watch_free (gpointer data)
{
  NetIoWatch *watch = data;

  g_source_remove (watch->source);
  net_socket_free (watch->sock);
  g_free (watch);
}

NetIo *
net_io_new (NetReceiveFunc func, gpointer user_data)
{
  NetIo *io = g_new0 (NetIo, 1);

  io->func = func;
  io->user_data = user_data;
  io->watches = g_ptr_array_new_with_free_func (watch_free);
  io->buf = g_malloc (NET_MAX_DATAGRAM);
  return io;
}

void
net_io_free (NetIo *io)
{
  if (io == NULL)
    return;
  g_ptr_array_unref (io->watches);
  g_free (io->buf);
  g_free (io);
}

/* Takes ownership of sock. */
void
net_io_add (NetIo *io, NetSocket *sock)
{
  NetIoWatch *watch = g_new0 (NetIoWatch, 1);

  watch->io = io;
  watch->sock = sock;
  watch->source = g_unix_fd_add (net_socket_get_fd (sock), G_IO_IN, on_readable, watch);
  g_ptr_array_add (io->watches, watch);
}

NetSocket *
net_io_lookup (NetIo *io, int family, gboolean natt)
{
  for (guint i = 0; i < io->watches->len; i++)
    {
      NetIoWatch *watch = g_ptr_array_index (io->watches, i);

      if (net_socket_get_family (watch->sock) == family && net_socket_is_natt (watch->sock) == natt)
        return watch->sock;
    }
  return NULL;
}
