/* The golden data: tests/data/golden/<scenario>.json (written by
 * tests/interop/capture-golden.py) loaded into plain structs, the captured
 * messages with them.  Bad data ends the program with a message naming the
 * file and the key: the data is ours, a mistake in it is a test bug. */
#pragma once

#include <glib.h>

#include "ike-crypto.h"
#include "ike-msg.h"

typedef struct _Scenario Scenario;

typedef struct
{
  guint index;
  int rekey_of;    /* index of the IKE SA this one replaced; -1 for the first */
  char *initiator; /* host: "a" or "b" */
  guint8 spi_i[8];
  guint8 spi_r[8];
  IkePrfId prf;
  IkeCipherSpec spec;
  guint16 dh;
  GBytes *ni, *nr, *g_ir, *skeyseed;
  GBytes *sk_d, *sk_ai, *sk_ar, *sk_ei, *sk_er, *sk_pi, *sk_pr;
  Scenario *scenario;
} GoldenSa;

typedef struct
{
  char *file;
  char *from; /* host */
  guint sa;
  guint8 exchange;
  gboolean response;
  guint32 message_id;
  guint fragment, total; /* SKF; 0 otherwise */
  GStrv inner;           /* payload types inside SK; NULL in the clear */
  GBytes *bytes;
  /* from the file name */
  guint8 name_exchange;
  gboolean name_response;
  char *name_sender;
  Scenario *scenario;
} GoldenMsg;

struct _Scenario
{
  char *name;
  char *psk;
  GHashTable *software; /* host → "strongSwan 5.9.8-5+deb12u6 (Debian)" */
  GPtrArray *sas;       /* GoldenSa */
  GPtrArray *msgs;      /* GoldenMsg, in file order */
};

Scenario *load_scenario (const char *json_name);
void scenario_free (Scenario *scenario);
/* The names the capture tool writes for the inner payload types. */
const char *payload_name (guint type);
