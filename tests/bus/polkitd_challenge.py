'''polkitd mock for the bus suite: python-dbusmock's stock polkitd template
answers only yes or no; ipsecd also needs "the caller could authenticate"
(is_challenge), so this one keeps a second list, SetChallenge().

  SetAllowed(as)    actions that are authorized
  SetChallenge(as)  actions that answer is_challenge (not authorized)
  Calls() -> a(su)  (action, flags) of every CheckAuthorization so far
'''
import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.freedesktop.PolicyKit1'
MAIN_OBJ = '/org/freedesktop/PolicyKit1/Authority'
MAIN_IFACE = 'org.freedesktop.PolicyKit1.Authority'
SYSTEM_BUS = True


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'BackendName': 'mock',
        'BackendVersion': '0.0',
        'BackendFeatures': dbus.UInt32(1, variant_level=1),
    }, signature='sv'))
    mock.allowed = []
    mock.challenge = []
    mock.calls = []


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})sa{ss}us', out_signature='(bba{ss})')
def CheckAuthorization(self, _subject, action_id, _details, flags, _cancellation_id):
    self.calls.append((action_id, flags))
    return (action_id in self.allowed, action_id in self.challenge, {})


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})ss')
def RegisterAuthenticationAgent(_self, _subject, _locale, _object_path):
    pass


@dbus.service.method(MOCK_IFACE, in_signature='as')
def SetAllowed(self, actions):
    self.allowed = list(actions)


@dbus.service.method(MOCK_IFACE, in_signature='as')
def SetChallenge(self, actions):
    self.challenge = list(actions)


@dbus.service.method(MOCK_IFACE, out_signature='a(su)')
def Calls(self):
    return dbus.Array(self.calls, signature='(su)')
