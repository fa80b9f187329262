#include "node_flags.h"

#include "base64.h"
#include "options.h"

namespace grapevine::tools {
namespace {

// Decodes a base64 key as `serf keygen` prints it; throws UsageError naming `flag`.
std::vector<std::byte> decode_key(const std::string& flag, const std::string& text) {
  auto out = base64_decode(text);
  if (!out) throw UsageError(flag + ": not base64: '" + text + "'");
  if (out->size() != 16 && out->size() != 24 && out->size() != 32) {
    throw UsageError(flag + ": the key must decode to 16, 24 or 32 bytes, got " +
                     std::to_string(out->size()));
  }
  return *out;
}

void apply_multicast(const NodeFlags& f, NodeConfig& node) {
  if (!f.multicast.empty()) {
    MulticastProtocolKind k;
    if (!parse_protocol(f.multicast.c_str(), k) ||
        (k != MulticastProtocolKind::push && k != MulticastProtocolKind::pull &&
         k != MulticastProtocolKind::pushpull)) {
      throw UsageError("--multicast: expected push|pull|pushpull, got '" + f.multicast + "'");
    }
    node.multicast.protocol = k;
  }
  if (f.fanout > 0) node.multicast.fanout = f.fanout;
  if (!f.view.empty()) {
    ViewConfig v;
    if (!parse_view_kind(f.view.c_str(), v.kind) || v.kind != ViewKind::hyparview) {
      throw UsageError("--view: expected hyparview, got '" + f.view + "'");
    }
    node.view = v;
  }
}

void apply_dialect(const NodeFlags& f, MembershipConfig& m) {
  if (f.dialect == "serf") {
    use_serf_dialect(m);
  } else if (!f.dialect.empty() && !parse_dialect(f.dialect, m.dialect)) {
    throw UsageError("--dialect: expected native|memberlist|serf, got '" + f.dialect + "'");
  }
  for (const std::string& r : f.serf_responses) {
    const auto eq = r.find('=');
    if (eq == std::string::npos) throw UsageError("--serf-respond: expected QUERY=RESPONSE");
    m.memberlist.serf_responses.emplace_back(r.substr(0, eq), r.substr(eq + 1));
  }
  if (!f.keys.empty()) {
    m.memberlist.keys.clear();
    for (const auto& k : f.keys) m.memberlist.keys.push_back(decode_key("--encrypt", k));
  }
  if (!f.label.empty()) m.memberlist.label = f.label;
  if (!f.delegate_vsn.empty()) {
    auto parts = split_list(f.delegate_vsn);
    if (parts.size() != 3) throw UsageError("--delegate-vsn: expected MIN,MAX,CUR (serf: 2,5,4)");
    m.memberlist.delegate_min = std::uint8_t(parse_count("--delegate-vsn", parts[0], 0, 255));
    m.memberlist.delegate_max = std::uint8_t(parse_count("--delegate-vsn", parts[1], 0, 255));
    m.memberlist.delegate_cur = std::uint8_t(parse_count("--delegate-vsn", parts[2], 0, 255));
  }
  if (m.dialect == Dialect::native) {
    for (const auto& k : m.memberlist.keys) {
      if (k.size() != 32) {
        throw UsageError("--encrypt: the native dialect takes 32-byte (AES-256) keys, got " +
                         std::to_string(k.size()) + " bytes (grapevine keygen makes one)");
      }
    }
  }
}

}  // namespace

void add_node_flags(CLI::App& cmd, NodeFlags& f) {
  cmd.add_option("--config", f.config, "TOML config file (flags override it)");
  cmd.add_option("--profile", f.profile, "timings: lan|wan|local (memberlist's defaults)");
  cmd.add_option("--detector", f.detector, "swim|lifeguard|gossip-heartbeat|all-to-all|phi");
  cmd.add_option("--membership", f.membership,
                 "eventual (default: SWIM-family lists) or consistent (Rapid: every member "
                 "installs the same sequence of configurations; native dialect)");
  cmd.add_option("--multicast", f.multicast, "push|pull|pushpull");
  cmd.add_option("--view", f.view,
                 "hyparview: also keep a HyParView overlay and multicast over its Plumtree");
  cmd.add_option("--fanout", f.fanout, "multicast push fanout");
  cmd.add_option("--dialect", f.dialect,
                 "native (default), memberlist (HashiCorp memberlist's wire protocol) or serf "
                 "(memberlist plus Serf's layer: a full member of a serf cluster, with "
                 "intents, user events, queries and `serf keys`)");
  cmd.add_option("--serf-respond", f.serf_responses,
                 "serf: QUERY=RESPONSE answers `serf query QUERY` with RESPONSE (repeatable; "
                 "an empty QUERY answers every query); other queries go to the `query` "
                 "--event-handler scripts (their stdout answers), or are only acked");
  cmd.add_option("--encrypt", f.keys,
                 "base64 AES key (`grapevine keygen`): seals every packet and stream; 32 bytes "
                 "(native), 16/24/32 (memberlist); repeat for extra decrypt-only keys, the "
                 "first is the primary");
  cmd.add_option("--label", f.label,
                 "cluster label bound into every packet and stream (at most 255 bytes)");
  cmd.add_option("--zone", f.zone,
                 "this member's zone (rack, subnet behind a router); native dialect only");
  cmd.add_option("--zone-prefix", f.zone_prefix,
                 "zones from addresses: a member's address masked to this many bits "
                 "(24: 10.0.1.0/24; IPv6 masks the same number of its 128 bits); both dialects")
      ->check(CLI::Range(0, 128));
  cmd.add_flag("--topology-aware", f.topology_aware,
               "multicast: from a zone of n members, gossip across zones with probability 1/n");
  cmd.add_option("--delegate-vsn", f.delegate_vsn,
                 "memberlist: delegate protocol versions MIN,MAX,CUR to advertise (serf: 2,5,4)");
  cmd.add_option("--tag", f.tags,
                 "KEY=VALUE: a tag of this node (repeatable; serf's encoding, shown by `grapevine "
                 "members` and `serf members`); adds to the config file's [tags]");
}

AgentConfig build_agent_config(const NodeFlags& f) {
  AgentConfig c;
  if (!f.config.empty()) load_toml(f.config, c);
  if (!f.profile.empty()) {
    Detector keep = c.node.membership.detector;
    MembershipMode keep_mode = c.node.membership.mode;
    ConsistentOptions keep_consistent = c.node.membership.consistent;
    c.node.membership = profile_by_name("--profile", f.profile);
    c.node.membership.detector = keep;
    c.node.membership.mode = keep_mode;
    c.node.membership.consistent = keep_consistent;
  }
  if (!f.membership.empty() && !parse_membership_mode(f.membership, c.node.membership.mode)) {
    throw UsageError("--membership: expected eventual|consistent, got '" + f.membership + "'");
  }
  if (!f.detector.empty() && !parse_detector(f.detector, c.node.membership.detector)) {
    throw UsageError("--detector: expected swim|lifeguard|gossip-heartbeat|all-to-all|phi, got '" +
                     f.detector + "'");
  }
  apply_multicast(f, c.node);
  apply_dialect(f, c.node.membership);
  for (const auto& t : f.tags) {
    auto [k, v] = parse_tag("--tag", t);
    c.tags.insert_or_assign(k, v);
  }
  if (!c.tags.empty()) {
    auto meta = encode_tags(c.tags);
    if (!meta) throw UsageError("--tag/[tags]: the tags take over 512 bytes encoded");
    c.node.membership.meta = std::move(*meta);
  }
  if (!f.zone.empty()) c.node.membership.zone = f.zone;
  if (f.zone_prefix >= 0) c.node.membership.zone_prefix = std::uint8_t(f.zone_prefix);
  if (f.topology_aware) c.node.multicast.topology_aware = true;
  return c;
}

void check_node_config(const AgentConfig& c) {
  if (c.node.view && c.node.membership.dialect == Dialect::memberlist) {
    throw UsageError("--view: the memberlist dialect has no partial views");
  }
  if (auto ok = validate(c.node); !ok)
    throw UsageError(std::string("config: ") + ok.error().detail);
}

}  // namespace grapevine::tools
