"""Perimeter firewall rule parsers (pfSense/OPNsense, FortiGate, nftables, iptables) into one rule model.

Corpus facts below were read from the files in ../shared/corpus/firewall themselves.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.firewall_rules import Rule, ruleset, service
from auditpack.collectors.parsers.fortigate import parse_fortigate_config
from auditpack.collectors.parsers.netfilter_rules import parse_iptables_rules, parse_nft_rules
from auditpack.collectors.parsers.pfsense import parse_pfsense_config
from auditpack.controls.firewall_rules import EgressRegister, diff_rulesets, justify
from auditpack.yamlfile import YamlFileError
from auditpack_lab.peers.netns import netns_unavailable
from conftest import auditpack_bin, corpus_file

FORTI = "firewall/acidjunk__fortigate-config-parser"
NFT_DIR = "firewall/debiansid__nftables-fullcone"
RULE_KEYS = ["id", "interface", "direction", "source", "destination", "service", "action", "enabled", "description"]
RULESET_KEYS = {"device", "default_inbound", "default_outbound", "rules", "any_to_any", "unjustified"}


def by_id(rs: dict) -> dict[str, dict]:
    return {r["id"]: r for r in rs["rules"]}


def assert_contract(rs: dict) -> None:
    """The exact firewall.ruleset shape of controls/EVIDENCE.md."""
    assert set(rs) == RULESET_KEYS
    assert rs["default_inbound"] in ("drop", "accept") and rs["default_outbound"] in ("drop", "accept")
    for rule in rs["rules"]:
        assert list(rule) == RULE_KEYS
        assert rule["direction"] in ("in", "out") and rule["action"] in ("allow", "deny")
        assert isinstance(rule["enabled"], bool)
    json.dumps(rs)  # evidence is stored as JSON


# --- pfSense / OPNsense ------------------------------------------------------


def test_opnsense_factory_config():
    rs = parse_pfsense_config(corpus_file("firewall/opnsense__core/config.xml.sample").read_bytes())
    assert_contract(rs)
    assert rs["device"] == "OPNsense.internal"
    # the two rules live in OPNsense's own model (OPNsense/Firewall/Filter/rules), <filter> is empty
    assert [r["id"] for r in rs["rules"]] == ["sequence-1", "sequence-11"]
    assert [r["description"] for r in rs["rules"]] == ["Default allow LAN to any rule", "Default allow LAN IPv6 to any rule"]
    for rule in rs["rules"]:
        assert (
            rule["interface"],
            rule["direction"],
            rule["source"],
            rule["destination"],
            rule["service"],
            rule["action"],
            rule["enabled"],
        ) == ("lan", "out", "lan", "any", "any", "allow", True)
    # pf blocks what no rule passes; the default LAN rule opens everything outbound
    assert (rs["default_inbound"], rs["default_outbound"]) == ("drop", "accept")
    assert rs["any_to_any"] == [] and rs["unjustified"] == []  # source is the LAN net, not any


def test_pfsense_factory_config():
    rs = parse_pfsense_config(corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes())
    assert_contract(rs)
    assert rs["device"] == "pfSense.home.arpa"
    assert [r["id"] for r in rs["rules"]] == ["0100000101", "0100000102"]  # the <tracker>s
    first = by_id(rs)["0100000101"]
    assert first == {
        "id": "0100000101",
        "interface": "lan",
        "direction": "out",
        "source": "lan",
        "destination": "any",
        "service": "any",
        "action": "allow",
        "enabled": True,
        "description": "Default allow LAN to any rule",
    }
    assert (rs["default_inbound"], rs["default_outbound"]) == ("drop", "accept")
    assert rs["any_to_any"] == []


def test_pfsense_default_outbound_is_drop_once_the_lan_rules_are_disabled():
    data = corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes()
    rs = parse_pfsense_config(data.replace(b"<type>pass</type>", b"<type>pass</type><disabled></disabled>"))
    assert [r["enabled"] for r in rs["rules"]] == [False, False]
    assert rs["default_outbound"] == "drop"


def test_opnsense_disabled_model_rule_does_not_open_outbound():
    data = corpus_file("firewall/opnsense__core/config.xml.sample").read_bytes()
    rs = parse_pfsense_config(data.replace(b"<enabled>1</enabled>", b"<enabled>0</enabled>"))
    assert [r["enabled"] for r in rs["rules"]] == [False, False] and rs["default_outbound"] == "drop"


PF_RULES = b"""<?xml version="1.0"?>
<pfsense><system><hostname>fw</hostname><domain>example.nl</domain></system>
<interfaces><wan><if>em0</if><ipaddr>dhcp</ipaddr></wan>
<lan><if>em1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
<opt1><if>em2</if><ipaddr>10.9.0.1</ipaddr><subnet>16</subnet></opt1></interfaces>
<filter>
<rule><type>pass</type><interface>wan</interface><tracker>1</tracker><protocol>tcp</protocol>
  <source><any/></source><destination><network>wanip</network><port>443</port></destination><descr>web</descr></rule>
<rule><type>pass</type><interface>lan</interface><tracker>2</tracker><protocol>tcp/udp</protocol>
  <source><network>lan</network></source><destination><address>9.9.9.9</address><port>53</port></destination></rule>
<rule><type>pass</type><interface>lan</interface><tracker>3</tracker>
  <source><network>lan</network></source><destination><network>opt1</network></destination></rule>
<rule><type>block</type><interface>lan</interface><tracker>4</tracker>
  <source><any/></source><destination><address>10.9.3.0/24</address></destination></rule>
<rule><type>reject</type><interface>lan</interface><tracker>5</tracker><protocol>tcp</protocol>
  <source><any/></source><destination><not/><network>lan</network><port>8000:8080</port></destination></rule>
<rule><type>pass</type><interface>lan</interface><tracker>6</tracker><disabled/>
  <source><any/></source><destination><any/></destination></rule>
<rule><type>pass</type><interface>wan</interface><tracker>7</tracker><floating>yes</floating><direction>out</direction>
  <protocol>udp</protocol><source><any/><port>123</port></source><destination><any/><port>123</port></destination></rule>
<rule><type>pass</type><interface>lan</interface><tracker>8</tracker>
  <source><any/></source><destination><any/></destination><descr>everything</descr></rule>
</filter></pfsense>"""


def test_pfsense_direction_mapping_and_fields():
    rs = parse_pfsense_config(PF_RULES)
    assert_contract(rs)
    rules = by_id(rs)
    assert rs["device"] == "fw.example.nl"
    assert (rules["1"]["direction"], rules["1"]["service"], rules["1"]["destination"]) == ("in", "tcp/443", "wanip")
    assert (rules["2"]["direction"], rules["2"]["service"]) == ("out", "tcp/53,udp/53")  # 9.9.9.9 is outside
    assert rules["3"]["direction"] == "in"  # lan -> opt1 stays inside
    assert (rules["4"]["direction"], rules["4"]["action"]) == ("in", "deny")  # inside opt1's 10.9.0.0/16
    assert (rules["5"]["destination"], rules["5"]["service"], rules["5"]["action"]) == ("!lan", "tcp/8000-8080", "deny")
    assert rules["5"]["direction"] == "out"
    assert rules["6"]["enabled"] is False
    assert (rules["7"]["direction"], rules["7"]["source"]) == ("out", "any port 123")  # floating, out on WAN
    assert rs["any_to_any"] == ["8"]  # rule 6 is any-to-any too, but disabled
    assert rs["default_outbound"] == "accept"  # rule 8


def test_pfsense_wan_interfaces_can_be_named():
    rs = parse_pfsense_config(PF_RULES, device="edge", wan=("wan", "opt1"))
    assert rs["device"] == "edge"
    assert by_id(rs)["3"]["direction"] == "out"  # opt1 is now outside


@pytest.mark.parametrize(
    "broken, message",
    [
        (b"<pfsense><filter><rule>", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<?xml version='1.0'?><pfsense><a></b></pfsense>", "not well-formed XML"),
        (b"<router><filter/></router>", "root element is <router>"),
        (b"<?xml version='1.0' encoding='nope'?><pfsense/>", "unknown encoding"),
        (b"<pfsense><filter><rule><type>match</type></rule></filter></pfsense>", "unknown type/action 'match'"),
    ],
)
def test_pfsense_malformed_config_is_refused_with_a_reason(broken, message):
    with pytest.raises(ValueError, match=message):
        parse_pfsense_config(broken)


def test_pfsense_truncated_corpus_file_is_refused():
    data = corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes()
    with pytest.raises(ValueError, match="not well-formed XML"):
        parse_pfsense_config(data[: len(data) // 2])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE pfsense [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<pfsense><filter><rule><type>pass</type><descr>&lol4;</descr></rule></filter></pfsense>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE pfsense [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<pfsense><filter><rule><type>pass</type><descr>&secret;</descr></rule></filter></pfsense>"""


@pytest.mark.parametrize(
    "attack",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, b'<!DOCTYPE pfsense SYSTEM "http://x/y.dtd"><pfsense/>'],
    ids=["billion-laughs", "external-entity", "external-dtd"],
)
def test_pfsense_entity_declarations_are_refused(attack):
    with pytest.raises(ValueError, match="entity-expansion"):
        parse_pfsense_config(attack)


# --- FortiGate -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, device", [("example.conf", "FortiGate-VM64"), ("global.conf", "FortiGate-VM64"), ("vdom.conf", "FGVM64")]
)
def test_fortigate_corpus_backups(name, device):
    rs = parse_fortigate_config(corpus_file(f"{FORTI}/{name}").read_bytes())
    assert_contract(rs)
    # example/global name the host in `config global / config system global`; vdom.conf is one VDOM's part only
    assert rs["device"] == device
    # every backup holds the same two policies in VDOM root (example/global: `config vdom / edit root`,
    # vdom.conf: header "#global_vdom=0:vd_name=root")
    assert by_id(rs) == {
        "root/1": {
            "id": "root/1",
            "interface": "port1->port2",
            "direction": "out",
            "source": "google-play",
            "destination": "android",
            "service": "tcp/80,tcp/443",
            "action": "allow",
            "enabled": True,
            "description": "Policy to allow HTTP and HTTPS",
        },
        # policy 2 has no `set action`: FortiOS's default is deny; service "ALL" is any, srcaddr "all" is any
        "root/2": {
            "id": "root/2",
            "interface": "port5->port2",
            "direction": "out",
            "source": "any",
            "destination": "apple",
            "service": "any",
            "action": "deny",
            "enabled": True,
            "description": "Deny all",
        },
    }
    assert (rs["default_inbound"], rs["default_outbound"]) == ("drop", "drop")  # the implicit deny policy
    assert rs["any_to_any"] == [] and rs["unjustified"] == []


FORTI_VDOMS = b"""#config-version=FG100F-7.02-FW-build1234:opmode=0:vdom=1:user=admin
config vdom
edit "cust-a"
next
edit "cust-b"
next
end
config global
config system global
    set hostname "edge-1"
end
config system interface
    edit "wan1"
        set vdom "cust-a"
        set role wan
    next
end
end
config vdom
edit "cust-a"
config firewall service custom
    edit "SMTPS"
        set tcp-portrange 465
    next
    edit "NTP"
        set udp-portrange 123
    next
    edit "PING"
        set protocol ICMP
    next
end
config firewall service group
    edit "mail"
        set member "SMTPS" "time"
    next
    edit "time"
        set member "NTP"
    next
end
config firewall policy
    edit 7
        set name "out-mail"
        set srcintf "internal" "dmz"
        set dstintf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "mail" "PING"
        set comments "say \\"hi\\"
 over two lines"
    next
    edit 8
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
        set status disable
    next
end
config firewall policy6
    edit 1
        set srcintf "internal"
        set dstintf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
    next
end
end
config vdom
edit "cust-b"
config firewall policy
    edit 7
        set srcintf "lan"
        set dstintf "wan2"
        set srcaddr "all"
        set dstaddr "all"
        set action deny
        set service "ALL"
    next
end
end
"""


def test_fortigate_vdoms_services_roles_and_status():
    rs = parse_fortigate_config(FORTI_VDOMS)
    assert_contract(rs)
    rules = by_id(rs)
    assert rs["device"] == "edge-1"
    assert list(rules) == ["cust-a/7", "cust-a/8", "cust-a/v6/1", "cust-b/7"]
    mail = rules["cust-a/7"]
    assert (mail["interface"], mail["direction"]) == ("internal,dmz->wan1", "out")
    assert mail["service"] == "tcp/465,udp/123,icmp"  # groups, nested groups and custom services resolved
    assert mail["description"] == 'out-mail: say "hi"\n over two lines'
    assert (rules["cust-a/8"]["direction"], rules["cust-a/8"]["enabled"]) == ("in", False)  # wan1 has role wan
    assert rs["any_to_any"] == ["cust-a/v6/1"]  # cust-a/8 is disabled, cust-b/7 denies


# `show full-configuration` as an administrator leaves it after editing with the list commands FortiOS has for
# multi-valued fields (append, select, unselect, clear) next to set/unset: every field the parser reads.
FORTI_FIELD_COMMANDS = b"""#config-version=FG100F-7.02-FW-build1234:opmode=0:vdom=1:user=admin
config vdom
edit "root"
next
end
config global
config system global
    set hostname "edge-2"
end
config system interface
    edit "wan1"
        set vdom "root"
        set role wan
    next
    edit "port9"
        set vdom "root"
        set role wan
        unset role
    next
end
end
config vdom
edit "root"
config firewall service custom
    edit "DNS"
        set category "Network Services"
        set tcp-portrange 53
        set udp-portrange 53
    next
    edit "HTTPS"
        set category "Web Access"
        set tcp-portrange 443
    next
    edit "SSH"
        set category "Remote Access"
        set tcp-portrange 22
    next
    edit "WEB-ALT"
        set tcp-portrange 8080
        append tcp-portrange 8443
    next
    edit "SYSLOG"
        set udp-portrange 514
        append udp-portrange 6514
        unselect udp-portrange 514
    next
    edit "SCTP-X"
        set sctp-portrange 2905
        clear sctp-portrange
        set tcp-portrange 5000
    next
end
config firewall service group
    edit "web"
        set member "HTTPS"
        append member "WEB-ALT"
    next
end
config firewall policy
    edit 1
        set name "lan-out"
        set srcintf "port1"
        append srcintf "port2"
        set dstintf "wan1"
        set srcaddr "lan-net"
        append srcaddr "dmz-net" "guest-net"
        set dstaddr "all"
        set action accept
        set service "HTTPS"
        append service "SSH" "DNS"
    next
    edit 2
        set name "from-wan"
        set srcintf "wan1"
        append srcintf "port1"
        set dstintf "port2"
        set srcaddr "all"
        set dstaddr "web-srv"
        append dstaddr "mail-srv"
        set action accept
        set service "web"
        append service "SYSLOG" "SCTP-X"
    next
    edit 3
        set name "cleared"
        set srcintf "port1"
        set dstintf "port2"
        append dstintf "port3"
        unselect dstintf "port2"
        set srcaddr "a" "b" "c"
        unselect srcaddr "b"
        set dstaddr "all"
        set action accept
        unset action
        set status disable
        unset status
        set service "HTTPS"
        append service "SSH"
        unset service
        append service "DNS"
        set comments "old"
        unset comments
    next
    edit 4
        set srcintf "port9"
        select srcintf "port1" "port2"
        set dstintf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "SSH"
        select service "HTTPS"
        append service "HTTPS"
        set status disable
    next
end
end
"""


def test_fortigate_field_commands_have_fortios_meaning():
    rs = parse_fortigate_config(FORTI_FIELD_COMMANDS)
    assert_contract(rs)
    assert rs["device"] == "edge-2"

    def rule(number, interface, direction, source, destination, service, action, enabled, description):
        keys = ("interface", "direction", "source", "destination", "service", "action", "enabled", "description")
        values = (interface, direction, source, destination, service, action, enabled, description)
        return {"id": f"root/{number}", **dict(zip(keys, values, strict=True))}

    assert rs["rules"] == [
        # append adds members: interfaces, addresses and services keep what `set` gave them
        rule(
            1,
            "port1,port2->wan1",
            "out",
            "lan-net,dmz-net,guest-net",
            "any",
            "tcp/443,tcp/22,tcp/53,udp/53",
            "allow",
            True,
            "lan-out",
        ),
        # the appended source interface does not hide the WAN one the policy was set with: it stays inbound; the
        # group's appended member and the custom services' appended port ranges count, the unselected and cleared do not
        rule(
            2,
            "wan1,port1->port2",
            "in",
            "any",
            "web-srv,mail-srv",
            "tcp/443,tcp/8080,tcp/8443,udp/6514,tcp/5000",
            "allow",
            True,
            "from-wan",
        ),
        # unselect removes the named members; unset/clear give the default: action deny, status enable, no comments,
        # and a multi-valued field starts empty again (a later append adds to nothing)
        rule(3, "port1->port3", "out", "a,c", "any", "tcp/53,udp/53", "deny", True, "cleared"),
        # select replaces like set; appending a member already there adds nothing; port9's role was unset: not WAN
        rule(4, "port1,port2->wan1", "out", "any", "any", "tcp/443", "allow", False, ""),
    ]


def test_fortigate_unset_role_is_not_wan_and_unset_multi_value_is_empty():
    data = FORTI_FIELD_COMMANDS.replace(
        b'        set srcintf "port9"\n        select srcintf "port1" "port2"\n', b'        set srcintf "port9"\n'
    )
    data = data.replace(b'        unset service\n        append service "DNS"\n', b"        unset service\n")
    rules = by_id(parse_fortigate_config(data))
    assert (rules["root/4"]["interface"], rules["root/4"]["direction"]) == ("port9->wan1", "out")
    # no member left: read as the rule model reads an absent field ("any", the wider reading), not as "DNS"
    assert rules["root/3"]["service"] == "any"


@pytest.mark.parametrize(
    "text",
    [b"", b"\n  \n", b"#config-version=FG100F-7.02-FW-build1234:opmode=0:vdom=0:user=admin\n", b"config foo\nend\n"],
    ids=["empty", "blank", "header-only", "no-fortios-section"],
)
def test_fortigate_file_without_configuration_is_refused(text):
    with pytest.raises(ValueError, match="no FortiGate configuration found"):
        parse_fortigate_config(text)


@pytest.mark.parametrize(
    "text",
    [
        b"config firewall policy\nend\n",
        b"config vdom\nedit root\nconfig firewall policy\nend\nend\n",
        b'config system global\n    set hostname "fw"\nend\n',  # a FortiGate without any policy: the implicit deny
    ],
)
def test_fortigate_configuration_without_policies_has_no_rules(text):
    rs = parse_fortigate_config(text)
    assert (rs["rules"], rs["default_inbound"], rs["default_outbound"]) == ([], "drop", "drop")


def test_import_of_empty_fortigate_file_stores_nothing(tmp_path, cli_env):
    (tmp_path / "empty.conf").write_bytes(b"")
    done = subprocess.run(
        [auditpack_bin(), "import", "firewall", "empty.conf", "--type", "fortigate", "--device", "x", "--store", "ev"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "could not be read as fortigate (nothing was stored): no FortiGate configuration found" in done.stderr
    assert "Traceback" not in done.stderr


def test_fortigate_wan_interfaces_can_be_named():
    rs = parse_fortigate_config(corpus_file(f"{FORTI}/example.conf").read_bytes(), device="fw", wan=["port5"])
    assert rs["device"] == "fw"
    assert [r["direction"] for r in rs["rules"]] == ["out", "in"]


def test_fortigate_truncated_corpus_backup_is_refused():
    data = corpus_file(f"{FORTI}/example.conf").read_bytes()
    cut = data[: data.index(b"    next\n    edit 2")]  # stops inside `config firewall policy`
    with pytest.raises(ValueError, match="cut short"):
        parse_fortigate_config(cut)


@pytest.mark.parametrize(
    "broken, message",
    [
        (b'config system global\n    set hostname "fw\n', "quoted value never closed"),
        (b"config firewall policy\n    edit 1\n    next\n", "cut short"),
        (b"next\n", "unexpected 'next'"),
        (b"edit 1\nend\n", "unexpected 'edit 1'"),
        (b"config firewall policy\n    edit 1\n        set action allow-all\n    next\nend\n", "unknown action"),
        (
            (
                b"config firewall service group\n edit \"a\"\n  set member \"b\"\n next\n edit \"b\"\n  set member \"a\"\n next\nend\n"
                b"config firewall policy\n edit 1\n  set service \"a\"\n next\nend\n"
            ),
            "contains itself",
        ),
        (b"\xff\xfeconfig", "not text"),
    ],
)
def test_fortigate_malformed_config_is_refused_with_a_reason(broken, message):
    with pytest.raises(ValueError, match=message):
        parse_fortigate_config(broken)


# --- netfilter: iptables-save ----------------------------------------------------


def test_iptables_batfish_host1():
    rs = parse_iptables_rules(corpus_file("firewall/batfish__batfish/host1.iptables").read_bytes(), device="host1")
    assert_contract(rs)
    assert rs["rules"] == [
        {
            "id": "filter/INPUT/1",
            "interface": "any",
            "direction": "in",
            "source": "any",
            "destination": "any",
            "service": "udp/53",
            "action": "allow",
            "enabled": True,
            "description": "",
        },
        {
            "id": "filter/INPUT/2",
            "interface": "any",
            "direction": "in",
            "source": "any",
            "destination": "any",
            "service": "tcp/22",
            "action": "allow",
            "enabled": True,
            "description": "",
        },
    ]
    # INPUT DROP but FORWARD and OUTPUT ACCEPT: as a gateway, transit passes both ways
    assert (rs["default_inbound"], rs["default_outbound"]) == ("accept", "accept")
    assert rs["any_to_any"] == []


def test_iptables_batfish_host2():
    rs = parse_iptables_rules(corpus_file("firewall/batfish__batfish/host2.iptables").read_bytes(), device="host2")
    assert_contract(rs)
    assert [r["id"] for r in rs["rules"]] == ["filter/INPUT/1", "filter/OUTPUT/1"]
    ssh, blocked = rs["rules"]
    assert (ssh["direction"], ssh["service"], ssh["action"]) == ("in", "tcp/22", "allow")
    assert (blocked["direction"], blocked["destination"], blocked["service"], blocked["action"]) == (
        "out",
        "2.128.0.101",
        "any",
        "deny",
    )
    assert (rs["default_inbound"], rs["default_outbound"]) == ("accept", "accept")


GATEWAY = b"""*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
:egress - [0:0]
:unused - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i eth1 -p tcp -m tcp --dport 22 -m comment --comment "admin ssh" -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j egress
-A FORWARD -i eth0 -o eth1 -d 192.168.1.10/32 -p tcp --dport 443 -j ACCEPT
-A FORWARD -i eth1 -o eth2 -j ACCEPT
-A FORWARD -j LOG --log-prefix "fwd drop "
-A egress -p tcp -m multiport --dports 80,443 -j ACCEPT
-A egress -p udp --dport 1000:2000 ! -d 10.0.0.0/8 -j ACCEPT
-A egress -j ACCEPT
-A unused -j ACCEPT
-A OUTPUT -o eth0 -p udp --dport 53 -j ACCEPT
COMMIT
"""


def test_iptables_gateway_follows_user_chains_and_sets_directions():
    rs = parse_iptables_rules(GATEWAY, device="gw", wan=["eth0"])
    assert_contract(rs)
    rules = by_id(rs)
    # loopback and return-traffic accepts let no new flow cross the perimeter; `unused` is never jumped to
    assert list(rules) == [
        "filter/INPUT/3",
        "filter/egress/1",
        "filter/egress/2",
        "filter/egress/3",
        "filter/FORWARD/3",
        "filter/FORWARD/4",
        "filter/OUTPUT/1",
    ]
    assert (rules["filter/INPUT/3"]["interface"], rules["filter/INPUT/3"]["description"]) == ("eth1", "admin ssh")
    assert rules["filter/egress/1"]["service"] == "tcp/80,tcp/443"
    assert (rules["filter/egress/2"]["service"], rules["filter/egress/2"]["destination"]) == ("udp/1000-2000", "!10.0.0.0/8")
    assert all(rules[f"filter/egress/{n}"]["interface"] == "eth1->eth0" for n in (1, 2, 3))  # from the jump
    assert [rules[i]["direction"] for i in ("filter/egress/3", "filter/FORWARD/3", "filter/FORWARD/4", "filter/OUTPUT/1")] == [
        "out",
        "in",
        "in",
        "out",
    ]
    assert rs["any_to_any"] == ["filter/egress/3", "filter/FORWARD/4"]
    assert (rs["default_inbound"], rs["default_outbound"]) == ("drop", "drop")


def test_iptables_without_wan_lan_bound_transit_is_inbound():
    rules = by_id(parse_iptables_rules(GATEWAY, device="gw", lan=["eth1", "eth2"]))
    assert rules["filter/FORWARD/3"]["direction"] == "in" and rules["filter/FORWARD/4"]["direction"] == "in"
    assert rules["filter/egress/3"]["direction"] == "out"  # to eth0, not a LAN


@pytest.mark.parametrize("garbled", [b"*filter\n:INPUT DROP [0:0]\n", b"*filter\nrubbish\nCOMMIT\n", b"\xff\xfe"])
def test_iptables_garbled_output_is_refused(garbled):
    with pytest.raises(ValueError):
        parse_iptables_rules(garbled, device="gw")


# --- netfilter: nftables JSON from real nft ------------------------------------------


def nft_json_of(corpus_name: str) -> bytes:
    """Load a corpus ruleset into real nftables in a throwaway network namespace, read it back as JSON."""
    path = corpus_file(f"{NFT_DIR}/{corpus_name}")
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        ["unshare", "-n", "sh", "-ec", f"nft -f '{path}'; nft -j list ruleset"], check=False, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_nft_upstream_sample_ruleset():
    rs = parse_nft_rules(nft_json_of("sample-ruleset.nft"), device="gw", wan=["eth0"])
    assert_contract(rs)
    rules = by_id(rs)
    pre = "inet/filter/"
    assert len(rules) == 63
    assert (rs["default_inbound"], rs["default_outbound"]) == ("drop", "drop")  # INPUT, FORWARD, OUTPUT policy drop
    # guest (eth2.20) and trusted (eth1) networks may send anything out of eth0
    assert rs["any_to_any"] == [pre + "trusted_forward/121", pre + "guest_forward/142"]
    assert rules[pre + "guest_forward/142"]["interface"] == "eth2.20->eth0"  # iifname from the @if_forward map
    # `iif "lo" accept` and `ct state established,related accept` (INPUT handles 64, 65) are left out
    assert pre + "INPUT/64" not in rules and pre + "INPUT/65" not in rules
    smtp = rules[pre + "public_output/166"]
    assert (smtp["interface"], smtp["direction"], smtp["service"], smtp["action"]) == (
        "eth0",
        "out",
        "tcp/443,tcp/587,tcp/853",
        "allow",
    )
    ssh = rules[pre + "home_input/85"]
    assert (ssh["interface"], ssh["direction"], ssh["service"]) == ("eth1", "in", "tcp/22")
    assert rules[pre + "home_input/78"]["interface"] == "eth1,eth2.10,eth2.20"  # home_input reached via three map keys
    assert rules[pre + "home_input/78"]["source"] == "any port 68"
    # `ip daddr {…} tcp dport vmap { 22 : accept, 80 : drop, 443 : accept }` becomes one rule per element
    assert [rules[pre + f"trusted_forward/126/{p}"]["action"] for p in (22, 80, 443)] == ["allow", "deny", "allow"]
    assert rules[pre + "trusted_forward/126/443"]["destination"] == "192.168.3.30,192.168.4.40"
    # an anonymous chain nft 1.0.x cannot put in JSON: kept, with its outer matches, as an allow
    dns = rules[pre + "home_input/91"]
    assert (dns["service"], dns["action"]) == ("tcp/53,udp/53", "allow")
    assert dns["description"].startswith("anonymous chain, not analysed: jump {")
    assert rules[pre + "public_forward/119"]["direction"] == "in"  # arrives on eth0 (WAN)


def test_nft_sample_without_wan_holds_more_to_the_register():
    rules = by_id(parse_nft_rules(nft_json_of("sample-ruleset.nft"), device="gw"))
    assert rules["inet/filter/public_forward/119"]["direction"] == "out"
    assert rules["inet/filter/home_output/179"]["direction"] == "out"
    lan = by_id(parse_nft_rules(nft_json_of("sample-ruleset.nft"), device="gw", lan=["eth1", "eth2.10", "eth2.20"]))
    assert lan["inet/filter/home_output/179"]["direction"] == "in"


def test_nft_chain_priorities_ruleset_has_no_rules_and_accepts():
    rs = parse_nft_rules(nft_json_of("0021prio_0.nft"), device="t")
    assert_contract(rs)
    assert rs["rules"] == []  # 390 chains, all empty with policy accept
    assert (rs["default_inbound"], rs["default_outbound"]) == ("accept", "accept")


def test_nft_nat_maps_are_no_filter_rules():
    rs = parse_nft_rules(nft_json_of("nat_addr_port.nft"), device="t")
    assert_contract(rs)
    assert rs["rules"] == []  # 31 rules, all in nat chains
    assert (rs["default_inbound"], rs["default_outbound"]) == ("accept", "accept")


def nft_doc(*rules: list, policy: str = "drop") -> bytes:
    entries = [
        {"table": {"family": "inet", "name": "f"}},
        {"chain": {"family": "inet", "table": "f", "name": "fwd", "type": "filter", "hook": "forward", "policy": policy}},
    ]
    entries += [
        {"rule": {"family": "inet", "table": "f", "chain": "fwd", "handle": n, "expr": expr}} for n, expr in enumerate(rules, 1)
    ]
    return json.dumps({"nftables": entries}).encode()


@pytest.mark.parametrize(
    "garbled",
    [
        b"",
        b"{}",
        b'{"nftables": [1]}',
        nft_doc([{"match": {"op": "==", "left": {"meta": {}}, "right": 1}}, {"accept": None}]),
        nft_doc([{"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": [["eth0"]]}}}]),
        nft_doc([{"accept": None, "drop": None}]),
        nft_doc(
            [
                {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"range": [[], 1]}}},
                {"accept": None},
            ]
        ),
        (b'{"nftables": [{"chain": {"family": "inet", "table": "f", "name": "c", "type": "filter", "hook": {"x": 1}}}]}'),
    ],
)
def test_nft_garbled_output_is_refused(garbled):
    with pytest.raises(ValueError):
        parse_nft_rules(garbled, device="gw")


def test_nft_ip_only_table_leaves_ipv6_open():
    doc = json.loads(nft_doc([{"accept": None}]))
    for entry in doc["nftables"]:
        next(iter(entry.values()))["family"] = "ip"
    rs = parse_nft_rules(json.dumps(doc).encode(), device="gw")
    assert rs["any_to_any"] == ["ip/f/fwd/1"]
    assert rs["default_inbound"] == "accept"  # IPv6 is not filtered at all


# --- the rule model, egress register and diff -------------------------------------


def rule(rid: str, **fields) -> Rule:
    base = {
        "interface": "lan",
        "direction": "out",
        "source": "lan",
        "destination": "any",
        "service": "tcp/443",
        "action": "allow",
        "enabled": True,
        "description": "",
    }
    return Rule(id=rid, **{**base, **fields})


def test_rule_model_refuses_what_the_contract_does_not_allow():
    with pytest.raises(ValueError, match="direction"):
        rule("1", direction="both")
    with pytest.raises(ValueError, match="action"):
        rule("1", action="pass")
    with pytest.raises(ValueError, match="occurs twice"):
        ruleset("fw", [rule("1"), rule("1")], "drop", "drop")
    with pytest.raises(ValueError, match="default_outbound"):
        ruleset("fw", [], "drop", "allow")


def test_service_combines_protocols_and_ports():
    assert service(["tcp", "udp"], ["53"]) == "tcp/53,udp/53"
    assert service(["any"], []) == "any" and service([], ["53"]) == "any/53" and service(["icmp"]) == "icmp"


REGISTER = b"""entries:
  - device: FortiGate-VM64
    service: tcp/80
    reason: software updates over HTTP
  - device: FortiGate-VM64
    port: 443
    reason: HTTPS to the app stores
  - device: gw
    rule: inet/filter/guest_forward/142
    reason: guest wifi is internet only, by design
  - device: gw
    service: udp/7000-8000
    reason: SIP media
  - device: other-fw
    service: tcp/25
    reason: not this device
"""


def test_egress_register_justifies_fortigate_policy_by_its_ports():
    rs = parse_fortigate_config(corpus_file(f"{FORTI}/example.conf").read_bytes())
    register = EgressRegister.from_yaml(REGISTER)
    assert justify(rs, register)["unjustified"] == []  # tcp/80 by service, tcp/443 by port
    only_http = EgressRegister.from_yaml(REGISTER.replace(b"port: 443", b"port: 8443"))
    assert justify(rs, only_http)["unjustified"] == ["root/1"]  # root/2 denies, so needs no reason
    assert rs["unjustified"] == []  # justify() returns a copy


def test_egress_register_on_pfsense_default_rules():
    rs = parse_pfsense_config(corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes())
    assert justify(rs, EgressRegister(entries=[]))["unjustified"] == ["0100000101", "0100000102"]
    register = EgressRegister.from_yaml(
        b"entries:\n  - {device: pfSense.home.arpa, rule: '0100000101', reason: office}\n"
        b"  - {device: pfSense.home.arpa, port: 443, reason: 'a port cannot justify any'}\n"
    )
    assert justify(rs, register)["unjustified"] == ["0100000102"]


def test_egress_register_ranges_rule_ids_and_other_devices():
    rs = ruleset(
        "gw",
        [
            rule("a", service="udp/7078-7097"),
            rule("b", service="udp/5060"),
            rule("c", service="any"),
            rule("d", service="tcp/25"),
            rule("e", direction="in", service="tcp/25"),
            rule("f", service="tcp/25", enabled=False),
            rule("g", service="tcp/25", action="deny"),
            rule("inet/filter/guest_forward/142", service="any"),
        ],
        "drop",
        "drop",
    )
    assert justify(rs, EgressRegister.from_yaml(REGISTER))["unjustified"] == ["b", "c", "d"]


def test_egress_register_rule_id_given_as_a_number():
    register = EgressRegister.from_yaml(b"entries:\n  - device: fw\n    rule: 7\n    reason: x\n")
    assert register.entries[0].rule == "7"
    assert justify(ruleset("fw", [rule("7", service="any")], "drop", "drop"), register)["unjustified"] == []


def test_egress_register_problems_carry_line_numbers():
    bad = b"""entries:
  - device: gw
    service: tcp/443
  - device: gw
    reason: nothing named
  - device: gw
    port: 70000
    reason: too high
  - device: gw
    service: any
    reason: everything
  - device: gw
    rule: x
    reason: ok
    colour: blue
"""
    with pytest.raises(YamlFileError) as caught:
        EgressRegister.from_yaml(bad, "egress.yaml")
    text = str(caught.value)
    assert "egress.yaml:2: entries.0.reason: Field required" in text
    assert "egress.yaml:4: entries.1: Value error, an entry needs a rule, service or port" in text
    assert "egress.yaml:7: entries.2.port:" in text
    assert "egress.yaml:9: entries.3: Value error, 'any' is not a justification" in text
    assert "egress.yaml:15: entries.4.colour: Extra inputs are not permitted" in text


def test_egress_register_that_is_not_yaml():
    with pytest.raises(YamlFileError, match="egress.yaml:2: -: not valid YAML: mapping values are not allowed here"):
        EgressRegister.from_yaml(b"entries:\n  - device: gw: x\n    reason: r\n", "egress.yaml")
    with pytest.raises(YamlFileError, match="egress.yaml:1: -: Input should be a valid dictionary"):
        EgressRegister.from_yaml(b"- device: gw\n", "egress.yaml")


def test_diff_rulesets_by_id():
    old = parse_fortigate_config(corpus_file(f"{FORTI}/example.conf").read_bytes())
    text = corpus_file(f"{FORTI}/example.conf").read_text()
    start = text.index("    edit 2\n        set uuid 3fa6")
    end = text.index("    next\n", start) + len("    next\n")
    new_text = (
        text[:start] + '    edit 3\n        set srcintf "port1"\n        set dstintf "port2"\n        set srcaddr "all"\n'
        '        set dstaddr "all"\n        set action accept\n        set service "ALL"\n    next\n' + text[end:]
    )
    new_text = new_text.replace('set service "HTTP" "HTTPS"', 'set service "HTTPS"')
    new = parse_fortigate_config(new_text.encode())
    diff = diff_rulesets(old, new)
    assert [r["id"] for r in diff["added"]] == ["root/3"] and new["any_to_any"] == ["root/3"]
    assert [r["id"] for r in diff["removed"]] == ["root/2"]
    assert [(c["id"], c["fields"], c["before"]["service"], c["after"]["service"]) for c in diff["changed"]] == [
        ("root/1", ["service"], "tcp/80,tcp/443", "tcp/443")
    ]
    assert diff_rulesets(old, old) == {"added": [], "removed": [], "changed": []}


# --- fuzzing: malformed input only ever raises ValueError ---------------------------


def only_value_error(parse, data: bytes) -> None:
    try:
        parse(data)
    except ValueError:
        pass


PF_PIECES = [
    "<pfsense>",
    "</pfsense>",
    "<opnsense>",
    "</opnsense>",
    "<filter>",
    "</filter>",
    "<rule>",
    "</rule>",
    "<type>pass</type>",
    "<type>nat</type>",
    "<type>block</type>",
    "<interface>lan,wan</interface>",
    "<disabled/>",
    "<source><any/></source>",
    "<destination><not/><address>10.0.0.0/8</address><port>1:2</port></destination>",
    "<destination><network>lan</network></destination>",
    "<protocol>tcp/udp</protocol>",
    "<tracker></tracker>",
    "<interfaces><lan><ipaddr>10.1.1.1</ipaddr><subnet>33</subnet></lan><wan/></interfaces>",
    "<OPNsense>",
    "</OPNsense>",
    ("<Firewall><Filter><rules><rule uuid=''><enabled>0</enabled><action>reject</action></rule></rules></Filter></Firewall>"),
    "<direction>out</direction>",
    "<floating>yes</floating>",
    "&amp;",
    "&x;",
    "<!DOCTYPE a>",
    "<?xml version='1.0' encoding='nope'?>",
    "\x00",
    "é",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PF_PIECES), max_size=14))
def test_pfsense_parser_on_shuffled_real_syntax_only_raises_value_error(pieces):
    only_value_error(parse_pfsense_config, "".join(pieces).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_pfsense_parser_on_bytes_only_raises_value_error(data):
    only_value_error(parse_pfsense_config, data)


FORTI_LINES = [
    "config vdom",
    "edit root",
    "edit \"cust\"",
    "next",
    "end",
    "config global",
    "config firewall policy",
    "config firewall service custom",
    "config firewall service group",
    "config system interface",
    "edit 1",
    "set srcintf \"port1\"",
    "set role wan",
    "set action accept",
    "set action",
    "set status disable",
    "set service \"ALL\" \"g\"",
    "set member \"g\"",
    "set protocol ICMP",
    "set tcp-portrange 1-2:3",
    "set comments \"multi",
    "line\"",
    "#config-version=X-1:vd_name=root",
    "unset icmptype",
    "append srcintf \"port2\"",
    "unselect service \"g\"",
    "select srcaddr \"a\" \"b\"",
    "clear dstaddr",
    "set",
    "config",
    "edit",
    "\"",
    "set hostname \"a\\\"b\"",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FORTI_LINES), max_size=16))
def test_fortigate_parser_on_shuffled_real_syntax_only_raises_value_error(lines):
    only_value_error(parse_fortigate_config, "\n".join(lines).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fortigate_parser_on_bytes_only_raises_value_error(data):
    only_value_error(parse_fortigate_config, data)


IPT_LINES = [
    "*filter",
    "*nat",
    "COMMIT",
    ":INPUT DROP [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":c - [0:0]",
    "-A INPUT -j c",
    "-A c -j INPUT",
    "-A c -g c",
    "-A FORWARD -i eth0 ! -o eth1 -j ACCEPT",
    "-A FORWARD -s ! 1.2.3.4 -j DROP",
    "-A INPUT -p tcp --dport 1:2 -j REJECT --reject-with x",
    "-A INPUT -m multiport --dports",
    "-A INPUT -j",
    "-A INPUT ! -j",
    "-A INPUT --comment",
    "-A INPUT -m conntrack --ctstate NEW -j ACCEPT",
    "[0:0] -A FORWARD -j ACCEPT",
    "-A INPUT -s '1.2.3.4 -j DROP",
    "# Generated by x",
    "",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(IPT_LINES), max_size=12))
def test_iptables_rules_parser_on_shuffled_real_syntax_only_raises_value_error(lines):
    only_value_error(lambda d: parse_iptables_rules(d, device="gw", wan=["eth0"]), "\n".join(lines).encode())


nft_leaves = st.none() | st.booleans() | st.integers() | st.sampled_from(["eth0", "@m", "accept", "lo", "established", "c"])
nft_values = st.recursive(
    nft_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "set",
                    "range",
                    "prefix",
                    "addr",
                    "len",
                    "meta",
                    "key",
                    "payload",
                    "protocol",
                    "field",
                    "ct",
                    "target",
                    "jump",
                    "accept",
                    "match",
                    "left",
                    "right",
                    "op",
                    "vmap",
                    "data",
                ]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)
nft_statements = st.lists(
    nft_values
    | st.just({"accept": None})
    | st.just({"jump": {"target": "c"}})
    | st.sampled_from(
        [
            {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}},
            {
                "match": {
                    "op": "!=",
                    "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                    "right": {"set": [1, {"range": [2, 3]}]},
                }
            },
            {"vmap": {"key": {"meta": {"key": "iifname"}}, "data": "@m"}},
            "jump { accept }",
        ]
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["fwd", "c"]).flatmap(lambda chain: nft_statements.map(lambda expr: (chain, expr))), max_size=5),
    st.sampled_from(["filter", "nat"]),
)
def test_nft_rules_parser_on_mangled_rules_only_raises_value_error(rules, chain_type):
    entries = [
        {"table": {"family": "inet", "name": "f"}},
        {
            "map": {
                "family": "inet",
                "table": "f",
                "name": "m",
                "map": "verdict",
                "elem": [["eth1", {"jump": {"target": "c"}}], ["lo", {"accept": None}]],
            }
        },
        {"chain": {"family": "inet", "table": "f", "name": "fwd", "type": chain_type, "hook": "forward", "policy": "drop"}},
        {"chain": {"family": "inet", "table": "f", "name": "c"}},
    ]
    entries += [
        {"rule": {"family": "inet", "table": "f", "chain": chain, "handle": n, "expr": expr}}
        for n, (chain, expr) in enumerate(rules)
    ]
    only_value_error(lambda d: parse_nft_rules(d, device="gw", wan=["eth0"]), json.dumps({"nftables": entries}).encode())
