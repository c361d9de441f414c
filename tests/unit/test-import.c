/* Importing libreswan's ipsec.conf and ipsec.secrets (service/store/
 * store-import*.c): real-world conn shapes, what each maps to, what is
 * reported (with file and line) and what is refused; secrets matched as
 * libreswan matches them and never in a message. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>

#include "store.h"

#define PSK_AB "Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"
#define PSK_ANY "x8Vq2Lm4Kp9Tz6Rw3Yb7Nc5Hd1Gf0Sj"
#define PSK_DEFAULT "Pw3Xm8Rq2Vt6Lk9Yn4Bz7Cd5Hf1Gj0S"

/* 192.0.2.1 and 2001:db8::1 are "this host" in these tests. */
static gboolean
fake_local (const struct sockaddr_storage *addr, gpointer user_data)
{
  static const guint8 v4[4] = { 192, 0, 2, 1 };
  static const guint8 v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

  if (addr->ss_family == AF_INET)
    return memcmp (&((const struct sockaddr_in *) addr)->sin_addr, v4, 4) == 0;
  if (addr->ss_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) addr)->sin6_addr, v6, 16) == 0;
  return FALSE;
}

static StoreImport *
import (const char *config, const char *secrets)
{
  g_autoptr (GError) error = NULL;
  StoreImport *imp = store_import_parse (config, "ipsec.conf", secrets, "ipsec.secrets", fake_local,
                                         NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (imp);
  return imp;
}

static void
dump (StoreImport *imp)
{
  for (guint i = 0; i < imp->problems->len; i++)
    g_printerr ("# problem: %s\n", (char *) imp->problems->pdata[i]);
}

static StoreImported *
find (StoreImport *imp, const char *name)
{
  for (guint i = 0; i < imp->connections->len; i++)
    {
      StoreImported *c = g_ptr_array_index (imp->connections, i);

      if (g_str_equal (c->name, name))
        return c;
    }
  return NULL;
}

static char *
key (StoreImported *c, const char *k)
{
  return g_key_file_get_string (c->file, "connection", k, NULL);
}

static void
assert_key (StoreImported *c, const char *k, const char *want)
{
  g_autofree char *got = key (c, k);

  g_assert_cmpstr (got, ==, want);
}

/* The problem line that starts with PREFIX, or NULL. */
static const char *
problem (StoreImport *imp, const char *prefix)
{
  for (guint i = 0; i < imp->problems->len; i++)
    if (g_str_has_prefix (imp->problems->pdata[i], prefix))
      return imp->problems->pdata[i];
  return NULL;
}

static void
assert_problem (StoreImport *imp, const char *prefix, const char *contains)
{
  const char *line = NULL;

  for (guint i = 0; i < imp->problems->len && line == NULL; i++)
    if (g_str_has_prefix (imp->problems->pdata[i], prefix)
        && (contains == NULL || strstr (imp->problems->pdata[i], contains) != NULL))
      line = imp->problems->pdata[i];
  if (line == NULL)
    {
      dump (imp);
      g_error ("no problem “%s…” containing “%s”", prefix, contains ? contains : "");
    }
}

static void
assert_no_secret_in_problems (StoreImport *imp)
{
  for (guint i = 0; i < imp->problems->len; i++)
    {
      const char *line = imp->problems->pdata[i];

      g_assert_null (strstr (line, PSK_AB));
      g_assert_null (strstr (line, PSK_ANY));
      g_assert_null (strstr (line, PSK_DEFAULT));
    }
}

static void
assert_psk (StoreImported *c, const char *want)
{
  g_assert_nonnull (c->psk);
  g_assert_cmpmem (c->psk->data, c->psk->len, want, strlen (want));
}

/* ---- host to host with a PSK, the way tests/lib/peers.py writes it ---- */

static const char host_to_host[] = "# a comment\n"
                                   "config setup\n"
                                   "\tuniqueids=yes\n"
                                   "\n"
                                   "conn west-east\n"
                                   "\tleft=192.0.2.2\n"
                                   "\tleftid=192.0.2.2\n"
                                   "\tright=192.0.2.1\n"
                                   "\trightid=192.0.2.1\n"
                                   "\tauthby=secret\n"
                                   "\tikev2=insist\n"
                                   "\tike=aes_gcm_16_256-sha2_256;dh31\n"
                                   "\tesp=aes256-sha2_256\n"
                                   "\ttype=transport\n"
                                   "\tencapsulation=no\n"
                                   "\tfragmentation=yes\n"
                                   "\tkeyingtries=1\n";

static void
test_host_to_host (void)
{
  g_autoptr (StoreImport) imp = import (host_to_host, "192.0.2.2 192.0.2.1 : PSK \"" PSK_AB "\"\n");
  StoreImported *c = find (imp, "west-east");
  g_autofree char *dir = g_dir_make_tmp ("ipsecd-import-XXXXXX", NULL);

  if (c == NULL)
    dump (imp);

  g_assert_nonnull (c);
  g_assert_cmpuint (c->line, ==, 5);
  /* right is this host: the ends are swapped */
  assert_key (c, "local", "192.0.2.1");
  assert_key (c, "remote", "192.0.2.2");
  assert_key (c, "local-id", "192.0.2.1");
  assert_key (c, "remote-id", "192.0.2.2");
  assert_key (c, "local-auth", "psk");
  assert_key (c, "remote-auth", NULL);
  assert_key (c, "ike", "aes_gcm16_256-prfsha2_256;dh31");
  assert_key (c, "esp", "aes256-sha2_256");
  assert_key (c, "mode", "transport");
  assert_key (c, "auto", "add");
  assert_psk (c, PSK_AB);
  assert_problem (imp, "ipsec.conf:3: config setup: uniqueids=yes: ", "daemon-wide");
  assert_problem (imp, "ipsec.conf:15: conn west-east: encapsulation=no: ", "UDP");
  g_assert_null (problem (imp, "ipsec.conf:17:")); /* keyingtries=1 is what ipsecd does */
  g_assert_null (problem (imp, "ipsec.conf:16:"));
  g_assert_cmpuint (imp->problems->len, ==, 2);
  /* what the loader says of it */
  store_import_check (imp, dir, "ipsec.conf");
  g_assert_nonnull (find (imp, "west-east"));
  assert_no_secret_in_problems (imp);
  g_rmdir (dir);
}

/* Neither end is here: left by convention, and said so. */
static void
test_left_by_default (void)
{
  g_autoptr (StoreImport) imp
      = import ("conn a\n left=198.51.100.1\n right=198.51.100.2\n authby=null\n", NULL);
  StoreImported *c = find (imp, "a");

  g_assert_nonnull (c);
  assert_key (c, "local", "198.51.100.1");
  assert_key (c, "remote", "198.51.100.2");
  assert_key (c, "local-auth", "null");
  assert_problem (imp, "ipsec.conf:2: conn a: left=198.51.100.1: ", "neither");
}

/* ---- a subnet tunnel with certificates ---- */

static const char certs[]
    = "conn office\n"
      "    left=%defaultroute\n"
      "    leftid=\"C=CA, O=Example, CN=road.example\"  # quoted, with blanks\n"
      "    leftcert=road\n"
      "    leftsendcert=always\n"
      "    leftsubnet=10.1.0.0/16\n"
      "    right=203.0.113.9\n"
      "    rightid=@gw.example\n"
      "    rightca=\"Example CA\"\n"
      "    leftca=\"Road CA\"\n"
      "    rightsubnet=10.2.0.0/16,2001:db8:2::/48\n"
      "    authby=rsasig\n"
      "    auto=start\n"
      "    dpddelay=30\n"
      "    dpdtimeout=120\n"
      "    retransmit-interval=250\n"
      "    ikelifetime=8h\n";

static void
test_certs (void)
{
  g_autoptr (StoreImport) imp = import (certs, NULL);
  StoreImported *c = find (imp, "office");

  g_assert_nonnull (c);
  assert_key (c, "local", NULL);
  assert_key (c, "remote", "203.0.113.9");
  assert_key (c, "local-id", "C=CA, O=Example, CN=road.example");
  assert_key (c, "remote-id", "@gw.example");
  assert_key (c, "local-auth", "pubkey");
  assert_key (c, "local-cert", "road");
  assert_key (c, "send-cert", "always");
  assert_key (c, "remote-ca", "Example CA");
  assert_key (c, "local-ts", "10.1.0.0/16");
  assert_key (c, "remote-ts", "10.2.0.0/16, 2001:db8:2::/48");
  assert_key (c, "auto", "start");
  assert_key (c, "dpd-delay", "30s");
  assert_key (c, "retransmit-timeout", "250ms");
  g_assert_null (c->psk);
  assert_problem (imp, "ipsec.conf:10: conn office: leftca=Road CA: ", "our own CA");
  assert_problem (imp, "ipsec.conf:15: conn office: dpdtimeout=120: ", "liveness");
  assert_key (c, "ike-life-time", "28800s");
  g_assert_cmpuint (imp->problems->len, ==, 2);
}

static void
test_signatures_need_keys (void)
{
  g_autoptr (StoreImport) imp = import ("conn nocert\n left=192.0.2.1\n right=192.0.2.7\n"
                                        "conn noca\n left=192.0.2.1\n right=192.0.2.8\n"
                                        " leftcert=me\n"
                                        "conn same\n left=192.0.2.1\n right=192.0.2.9\n"
                                        " leftcert=me\n leftca=\"My CA\"\n rightca=%same\n",
                                        NULL);
  StoreImported *same = find (imp, "same");

  g_assert_null (find (imp, "nocert"));
  assert_problem (imp, "ipsec.conf:1: conn nocert: ", "leftcert= (the NSS nickname) is missing");
  g_assert_null (find (imp, "noca"));
  assert_problem (imp, "ipsec.conf:4: conn noca: ", "rightca=");
  g_assert_nonnull (same);
  assert_key (same, "remote-ca", "My CA");
}

/* ---- opportunistic encryption and shunts ---- */

static const char oe[] = "conn clear\n"
                         "\ttype=passthrough\n"
                         "\tauthby=never\n"
                         "\tleft=%defaultroute\n"
                         "\tright=%group\n"
                         "\tauto=ondemand\n"
                         "conn private-or-clear\n"
                         "\ttype=tunnel\n"
                         "\tleft=%defaultroute\n"
                         "\tauthby=null\n"
                         "\tleftid=%null\n"
                         "\trightid=%null\n"
                         "\tright=%opportunisticgroup\n"
                         "\tnegotiationshunt=hold\n"
                         "\tfailureshunt=passthrough\n"
                         "\tauto=ondemand\n";

static void
test_oe (void)
{
  g_autoptr (StoreImport) imp = import (oe, NULL);

  g_assert_cmpuint (imp->connections->len, ==, 0);
  assert_problem (imp, "ipsec.conf:2: conn clear: type=passthrough: ", "not imported");
  assert_problem (
      imp, "ipsec.conf:13: conn private-or-clear: right=%opportunisticgroup: ", "OE policy groups");
}

/* ---- %default and also= ---- */

static const char layered[] = "conn %default\n"
                              "\tike=aes256-sha2_256;modp3072\n"
                              "\tkeyingtries=%forever\n"
                              "conn base\n"
                              "\tauthby=secret\n"
                              "\tleft=192.0.2.1\n"
                              "\tleftid=@here.example\n"
                              "conn one\n"
                              "\talso=base\n"
                              "\tright=198.51.100.5\n"
                              "\trightid=@one.example\n"
                              "\tike=aes_gcm16_256-prfsha256-x25519\n"
                              "conn two\n"
                              "\talso=base\n"
                              "\tright=2001:db8::9\n"
                              "\tauto=start\n"
                              "conn loop\n"
                              "\talso=loop2\n"
                              "\tright=192.0.2.3\n"
                              "conn loop2\n"
                              "\talso=loop\n"
                              "\tauto=add\n"
                              "conn dangling\n"
                              "\talso=nowhere\n";

static void
test_default_also (void)
{
  g_autoptr (StoreImport) imp = import (layered, "@here.example @one.example : PSK \"" PSK_AB "\"\n"
                                                 "192.0.2.1 %any : PSK \"" PSK_ANY "\"\n"
                                                 ": PSK \"" PSK_DEFAULT "\"\n");
  StoreImported *one = find (imp, "one"), *two = find (imp, "two");

  g_assert_nonnull (one);
  assert_key (one, "local", "192.0.2.1");
  assert_key (one, "local-id", "@here.example");
  assert_key (one, "remote", "198.51.100.5");
  /* the conn's own key wins over %default */
  assert_key (one, "ike", "aes_gcm16_256-prfsha256-x25519");
  assert_psk (one, PSK_AB);
  g_assert_nonnull (two);
  assert_key (two, "ike", "aes256-sha2_256;modp3072");
  assert_key (two, "auto", "start");
  /* its local id is @here.example, not the address: only the %any index
   * matches, which beats the line without indexes (as in libreswan) */
  assert_psk (two, PSK_ANY);
  g_assert_null (find (imp, "base"));
  assert_problem (imp, "ipsec.conf:4: conn base: ", "also=");
  assert_problem (imp, "ipsec.conf:3: conn one: keyingtries=%forever: ", "retry");
  assert_problem (imp, "ipsec.conf:3: conn two: keyingtries=%forever: ", "retry");
  g_assert_null (find (imp, "loop"));
  assert_problem (imp, "ipsec.conf:", "loop");
  g_assert_null (find (imp, "dangling"));
  assert_problem (imp, "ipsec.conf:24: conn dangling: also=nowhere: ", "no conn");
  assert_no_secret_in_problems (imp);
}

/* ---- syntax errors fail the import with file and line ---- */

static void
assert_syntax_error (const char *config, const char *secrets, const char *want)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StoreImport) imp = store_import_parse (config, "ipsec.conf", secrets, "ipsec.secrets",
                                                    fake_local, NULL, &error);

  g_assert_null (imp);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_INVALID);
  if (!g_str_has_prefix (error->message, want))
    g_error ("“%s” does not start with “%s”", error->message, want);
  g_assert_null (strstr (error->message, PSK_AB));
}

static void
test_syntax (void)
{
  assert_syntax_error ("\n\n  left=1.2.3.4\n", NULL, "ipsec.conf:3: an indented line outside");
  assert_syntax_error ("conn a\n\tleftid=\"C=CA, O=x\n", NULL, "ipsec.conf:2: a quoted value");
  assert_syntax_error ("conn a\n left=1 2\n", NULL, "ipsec.conf:2: more than one value");
  assert_syntax_error ("conn a\n\tjust words\n", NULL, "ipsec.conf:2: expected key=value");
  assert_syntax_error ("conn a\nleft=192.0.2.1\n", NULL, "ipsec.conf:2: expected “conn NAME”");
  assert_syntax_error ("conn a\n left=192.0.2.1\nconn a\n", NULL,
                       "ipsec.conf:3: conn a is defined");
  assert_syntax_error ("conn a b\n", NULL, "ipsec.conf:1: expected");
  assert_syntax_error ("conn a\n", "@a @b PSK \"" PSK_AB "\"\n", "ipsec.secrets:1: no “:”");
  assert_syntax_error ("conn a\n", "\n@a @b : PSK \"" PSK_AB "\n", "ipsec.secrets:2: a quoted PSK");
  assert_syntax_error ("conn a\n", "@a : PSK " PSK_AB "\n", "ipsec.secrets:1: a PSK is");
  assert_syntax_error ("conn a\n", "@a : PSK 0xabc\n", "ipsec.secrets:1: a PSK is");
  assert_syntax_error ("conn a\n", "@a :\n", "ipsec.secrets:1: the kind");
}

/* ---- keys without an equivalent, and refusals ---- */

static void
test_unmapped (void)
{
  g_autoptr (StoreImport) imp
      = import ("include /etc/ipsec.d/*.conf\n"
                "conn a\n"
                "\tleft=192.0.2.1\n"
                "\tright=192.0.2.2\n"
                "\tauthby=null\n"
                "\tleftupdown=/usr/local/bin/updown\n"
                "\tmtu=1400\n"
                "\tmobike=yes\n"
                "\tleftcert=unused\n"
                "conn v1\n\tikev2=no\n\tleft=192.0.2.1\n\tright=192.0.2.3\n\tauthby=null\n"
                "conn v1b\n\tkeyexchange=ikev1\n\tleft=192.0.2.1\n\tright=192.0.2.4\n"
                "conn _x\n\tleft=192.0.2.1\n"
                "conn ign\n\tauto=ignore\n\tleft=192.0.2.1\n\tright=192.0.2.5\n"
                "conn pp\n\tleft=192.0.2.1\n\tright=192.0.2.6\n\tauthby=null\n"
                "\tleftprotoport=17/1701\n"
                "conn many\n\tleft=192.0.2.1\n\tright=192.0.2.6\n\tauthby=null\n"
                "\tleftsubnets={10.0.1.0/24 10.0.2.0/24}\n"
                "conn dns\n\tleft=192.0.2.1\n\tright=gw.example\n\tauthby=null\n"
                "conn weak\n\tleft=192.0.2.1\n\tright=192.0.2.7\n\tauthby=null\n"
                "\tike=3des-md5;modp1024\n",
                NULL);
  StoreImported *a = find (imp, "a");

  g_assert_nonnull (a);
  assert_problem (imp, "ipsec.conf:1: include /etc/ipsec.d/*.conf: ", "not followed");
  assert_problem (imp, "ipsec.conf:6: conn a: leftupdown=/usr/local/bin/updown: ", "updown");
  assert_problem (imp, "ipsec.conf:7: conn a: mtu=1400: no ipsecd equivalent", NULL);
  assert_problem (imp, "ipsec.conf:8: conn a: mobike=yes: ", "MOBIKE");
  assert_problem (imp, "ipsec.conf:9: conn a: leftcert=unused: ", "only used with signatures");
  g_assert_null (find (imp, "v1"));
  assert_problem (imp, "ipsec.conf:11: conn v1: ikev2=no: ", "IKEv1");
  g_assert_null (find (imp, "v1b"));
  assert_problem (imp, "ipsec.conf:16: conn v1b: keyexchange=ikev1: ", "IKEv1");
  g_assert_null (find (imp, "_x"));
  assert_problem (imp, "ipsec.conf:19: conn _x: ", "rename");
  g_assert_null (find (imp, "ign"));
  assert_problem (imp, "ipsec.conf:22: conn ign: auto=ignore: ", "not imported");
  g_assert_null (find (imp, "pp"));
  assert_problem (imp, "ipsec.conf:29: conn pp: leftprotoport=17/1701: ", "port");
  g_assert_null (find (imp, "many"));
  assert_problem (
      imp, "ipsec.conf:34: conn many: leftsubnets=10.0.1.0/24 10.0.2.0/24: ", "one Child SA");
  g_assert_null (find (imp, "dns"));
  assert_problem (imp, "ipsec.conf:37: conn dns: right=gw.example: ", "DNS");
  g_assert_null (find (imp, "weak"));
  assert_problem (imp, "ipsec.conf:43: conn weak: ike=3des-md5;modp1024: ", NULL);
  g_assert_cmpuint (imp->connections->len, ==, 1);
}

static void
test_auto (void)
{
  g_autoptr (StoreImport) imp
      = import ("conn od\n left=192.0.2.1\n right=192.0.2.2\n authby=null\n auto=ondemand\n", NULL);
  StoreImported *c = find (imp, "od");

  g_assert_nonnull (c);
  assert_key (c, "auto", "start");
  assert_problem (imp, "ipsec.conf:5: conn od: auto=ondemand: ", "on-demand");
}

/* ---- ipsec.secrets ---- */

static void
test_secrets (void)
{
  g_autoptr (StoreImport) imp
      = import ("conn hex\n left=192.0.2.1\n right=192.0.2.20\n authby=secret\n"
                "conn b64\n left=192.0.2.1\n right=192.0.2.21\n authby=secret\n"
                "conn any\n left=192.0.2.1\n right=%any\n authby=secret\n"
                "conn v6\n left=2001:db8::1\n right=2001:db8::2\n authby=secret\n"
                "conn clash\n left=192.0.2.1\n right=192.0.2.30\n authby=secret\n",
                "# hex, with libreswan's '_' separators\n"
                "192.0.2.1 192.0.2.20 : PSK 0x4a71372d_77566432\n"
                "\t# an entry may continue on indented lines\n"
                "192.0.2.21\n"
                "   192.0.2.1 : PSK 0sSnE3LXdWZDJ4Szlw\n"
                "192.0.2.1 %any : PSK \"" PSK_ANY "\"\n"
                "2001:db8::1 2001:db8:0::2 : PSK \"" PSK_AB "\"\n"
                "192.0.2.30 192.0.2.1 : PSK \"" PSK_AB "\"\n"
                "192.0.2.1 192.0.2.30 : PSK \"" PSK_DEFAULT "\"\n"
                "@x : RSA { Modulus: 0x00 }\n"
                "@user : XAUTH \"" PSK_DEFAULT "\"\n"
                "include /etc/ipsec.d/*.secrets\n");

  assert_psk (find (imp, "hex"), "Jq7-wVd2");
  assert_psk (find (imp, "b64"), "Jq7-wVd2xK9p");
  assert_psk (find (imp, "any"), PSK_ANY);
  assert_psk (find (imp, "v6"), PSK_AB);
  g_assert_null (find (imp, "clash"));
  assert_problem (imp, "ipsec.conf:17: conn clash: ", "equally well");
  assert_problem (imp, "ipsec.secrets:10: RSA secret: ", "NSS");
  assert_problem (imp, "ipsec.secrets:11: XAUTH secret: ", "XAUTH");
  assert_problem (imp, "ipsec.secrets:12: include", "not followed");
  assert_no_secret_in_problems (imp);
}

/* Only the peer's id on a line is not a match for a PSK (libreswan's
 * rule), nor are ids of other ends. */
static void
test_secrets_none (void)
{
  g_autoptr (StoreImport) imp
      = import ("conn none\n left=192.0.2.1\n right=192.0.2.40\n leftid=@x\n authby=secret\n",
                "192.0.2.40 : PSK \"" PSK_AB "\"\n"
                "@y @z : PSK \"" PSK_ANY "\"\n");

  g_assert_null (find (imp, "none"));
  assert_problem (imp,
                  "ipsec.conf:1: conn none: ", "no PSK in ipsec.secrets matches @x and 192.0.2.40");
  assert_no_secret_in_problems (imp);
}

/* The loader's own checks: a guessable PSK is refused, naming the conn. */
static void
test_check (void)
{
  g_autoptr (StoreImport) imp = import ("conn short\n left=192.0.2.1\n right=192.0.2.2\n"
                                        " authby=secret\n",
                                        ": PSK \"secret\"\n");
  g_autofree char *dir = g_dir_make_tmp ("ipsecd-import-XXXXXX", NULL);

  g_assert_nonnull (find (imp, "short"));
  store_import_check (imp, dir, "ipsec.conf");
  g_assert_null (find (imp, "short"));
  assert_problem (imp, "ipsec.conf:1: conn short: ", "(conn not imported)");
  g_assert_null (strstr (problem (imp, "ipsec.conf:1:"), "\"secret\""));
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/import/host-to-host", test_host_to_host);
  g_test_add_func ("/import/left-by-default", test_left_by_default);
  g_test_add_func ("/import/certs", test_certs);
  g_test_add_func ("/import/signatures-need-keys", test_signatures_need_keys);
  g_test_add_func ("/import/oe", test_oe);
  g_test_add_func ("/import/default-also", test_default_also);
  g_test_add_func ("/import/syntax", test_syntax);
  g_test_add_func ("/import/unmapped", test_unmapped);
  g_test_add_func ("/import/auto", test_auto);
  g_test_add_func ("/import/secrets", test_secrets);
  g_test_add_func ("/import/secrets-none", test_secrets_none);
  g_test_add_func ("/import/check", test_check);
  return g_test_run ();
}
