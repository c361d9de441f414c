/* Names shared by the daemon and every front end (DESIGN.md §3). */
#pragma once

#define IPSEC_BUS_NAME "org.libreswan.IPsec"
#define IPSEC_OBJECT_ROOT "/org/libreswan/IPsec"

#define IPSEC_IFACE_MANAGER IPSEC_BUS_NAME ".Manager"
#define IPSEC_IFACE_CONNECTION IPSEC_BUS_NAME ".Connection"
#define IPSEC_IFACE_SA IPSEC_BUS_NAME ".SA"

#define IPSEC_ACTION_CONNECTION_TOGGLE IPSEC_BUS_NAME ".connection.toggle"
#define IPSEC_ACTION_CONNECTION_MANAGE IPSEC_BUS_NAME ".connection.manage"
#define IPSEC_ACTION_POLICY_MANAGE IPSEC_BUS_NAME ".policy.manage"
#define IPSEC_ACTION_SOCKET_PROTECT IPSEC_BUS_NAME ".socket.protect"

/* The NetworkManager VPN service type; never the libreswan plugin's. */
#define IPSEC_NM_SERVICE_TYPE "org.freedesktop.NetworkManager.ipsecd"
