// Writes the seed corpora under fuzz/corpus/: valid native datagrams made by the encoders, one
// file each, so the fuzzers start from inputs that pass framing and reach the protocol logic.
// Origins are real member ids of the fuzzers' simulated group (sim_address(i)), so tree
// machines find the root and the NACK/session/repair paths run.
//
// Usage: fuzz_make_corpus <fuzz/corpus>   (rewrites the files it owns; commit the result)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "grapevine/group.h"
#include "sim/simulator.h"
#include "wire/native.h"
#include "wire/native_consistent.h"
#include "wire/native_membership.h"
#include "wire/native_views.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;

std::uint64_t member_id(std::uint32_t i) {
  return node_id_of(sim::sim_address(i));
}

template <class F>
std::vector<std::byte> datagram(F&& frames) {
  std::vector<std::byte> buf(kPacketBudgetBytesMax);
  Writer w(buf);
  begin_datagram(w);
  if (!frames(w) || !w.ok()) {
    std::fprintf(stderr, "make_corpus: a seed does not fit\n");
    std::exit(1);
  }
  return {w.written().begin(), w.written().end()};
}

std::vector<std::byte> payload(std::size_t n) {
  std::vector<std::byte> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte('a' + i % 26);
  return p;
}

void save(const std::filesystem::path& dir, const std::string& name,
          const std::vector<std::byte>& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_corpus: cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

// Membership datagrams, one push-pull stream message, a stream ping and its ack
// (fuzz_membership_frames reads its input both as a datagram and as a stream message).
std::vector<std::pair<std::string, std::vector<std::byte>>> membership_seeds() {
  const Address a1 = sim::sim_address(1);
  const Address a6 = *Address::parse("[2001:db8::7]:7946");
  const std::uint64_t id1 = member_id(1), id2 = member_id(2);
  const auto meta = payload(16);
  std::vector<std::pair<std::string, std::vector<std::byte>>> seeds = {
      {"ping", datagram([&](Writer& w) {
         return write_ping(w, {42, id2, id1});
       })},
      {"ping_req", datagram([&](Writer& w) {
         return write_ping_req(w, {43, id2, a1, true});
       })},
      {"ping_req_v6", datagram([&](Writer& w) {
         return write_ping_req(w, {44, id2, a6, false});
       })},
      {"ack", datagram([&](Writer& w) { return write_ack(w, SeqFrame{42}); })},
      {"nack", datagram([&](Writer& w) { return write_nack(w, SeqFrame{43}); })},
      {"alive", datagram([&](Writer& w) {
         return write_alive(w, {id1, 3, a1, meta, "node-1"});
       })},
      {"alive_zone", datagram([&](Writer& w) {
         AliveFrame f{id1, 3, a1, meta, "node-1"};
         f.zone = "10.0.1.0/24";
         return write_alive(w, f);
       })},
      {"suspect", datagram([&](Writer& w) {
         return write_suspect(w, {id2, 4, id1});
       })},
      {"dead", datagram([&](Writer& w) {
         return write_dead(w, {id2, 5, id2});
       })},
      {"heartbeat", datagram([&](Writer& w) {
         return write_heartbeat(w, {id1, 1000});
       })},
      {"hb_list", datagram([&](Writer& w) {
         const HeartbeatEntry entries[] = {{id1, a1, 7, false}, {id2, a6, 9, true}};
         return write_hb_list(w, entries);
       })},
      {"piggyback", datagram([&](Writer& w) {
         return write_ping(w, {45, id2, id1}) && write_alive(w, {id2, 1, a6, {}, ""}) &&
                write_suspect(w, {id1, 2, id2});
       })},
  };
  std::vector<std::byte> stream(1024);
  Writer w(stream);
  write_push_pull_header(w, PushPullHeader{true, false, id1, a1, 2});
  write_member(w, MemberEntry{id1, a1, 3, WireState::alive, meta, "node-1"});
  write_member(w, MemberEntry{id2, a6, 1, WireState::suspect, {}, ""});
  finish_stream(w);
  stream.resize(w.size());
  seeds.emplace_back("push_pull_stream", stream);
  std::vector<std::byte> ping(kStreamPingBytesMax);
  Writer wp(ping);
  write_stream_ping(wp, PingFrame{46, id2, id1});
  ping.resize(wp.size());
  seeds.emplace_back("stream_ping", ping);
  std::vector<std::byte> ack(kStreamPingBytesMax);
  Writer wa(ack);
  write_stream_ack(wa, SeqFrame{46});
  ack.resize(wa.size());
  seeds.emplace_back("stream_ack", ack);
  // Zones (flag 4): every entry carries one, possibly empty.
  std::vector<std::byte> zoned(1024);
  Writer z(zoned);
  PushPullHeader zh{false, true, id1, a1, 2};
  zh.zones = true;
  write_push_pull_header(z, zh);
  MemberEntry e1{id1, a1, 3, WireState::alive, meta, "node-1"};
  e1.zone = "rack-1";
  write_member(z, e1, true);
  write_member(z, MemberEntry{id2, a6, 1, WireState::suspect, {}, ""}, true);
  finish_stream(z);
  zoned.resize(z.size());
  seeds.emplace_back("push_pull_zones", zoned);
  return seeds;
}

// Partial-view datagrams (family 0x30): every frame type and kind, limits (most entries, largest
// payload, IPv6), several frames in one datagram, and an unknown frame of the family.
std::vector<std::pair<std::string, std::vector<std::byte>>> view_seeds() {
  const Address a1 = sim::sim_address(1), a2 = sim::sim_address(2);
  const Address a6 = *Address::parse("[2001:db8::7]:7946");
  const auto p5 = payload(5);
  const auto p_max = payload(kMulticastPayloadBytesMax);
  std::vector<ViewEntry> two = {{a1, 0}, {a2, 3}};
  std::vector<ViewEntry> most;
  std::vector<Address> most_peers;
  for (std::uint32_t i = 0; i < kViewEntriesMax; ++i) {
    most.push_back({i % 7 == 6 ? a6 : sim::sim_address(i), i * 1000});
    most_peers.push_back(most.back().address);
  }
  const Address peers[] = {a1, a2};
  return {
      {"subscribe_new", datagram([&](Writer& w) {
         return write_subscribe(w, {true, 0, a1});
       })},
      {"subscribe_fwd", datagram([&](Writer& w) {
         return write_subscribe(w, {false, 5, a2});
       })},
      {"subscribe_v6_max_hops", datagram([&](Writer& w) {
         return write_subscribe(w, {false, kViewHopsMax, a6});
       })},
      {"inview_add", datagram([&](Writer& w) { return write_inview(w, {true}); })},
      {"inview_remove", datagram([&](Writer& w) { return write_inview(w, {false}); })},
      {"unsubscribe_none", datagram([&](Writer& w) {
         return write_unsubscribe(w, {a1, {}});
       })},
      {"unsubscribe_repl", datagram([&](Writer& w) {
         return write_unsubscribe(w, {a1, a2});
       })},
      {"unsubscribe_v6", datagram([&](Writer& w) {
         return write_unsubscribe(w, {a6, a1});
       })},
      {"walk", datagram([&](Writer& w) {
         return write_walk(w, {5, a1});
       })},
      {"shuffle_req", datagram([&](Writer& w) { return write_shuffle(w, kShuffleRequest, two); })},
      {"shuffle_reply", datagram([&](Writer& w) { return write_shuffle(w, kShuffleReply, two); })},
      {"shuffle_join_reply", datagram([&](Writer& w) {
         return write_shuffle(w, kShuffleJoinReply, std::span(two).first(1));
       })},
      {"shuffle_most_entries",
       datagram([&](Writer& w) { return write_shuffle(w, kShuffleRequest, most); })},
      {"shuffle_max_age", datagram([&](Writer& w) {
         const ViewEntry old[] = {{a1, kViewAgeMax}};
         return write_shuffle(w, kShuffleReply, old);
       })},
      {"tman_request", datagram([&](Writer& w) { return write_tman(w, kTmanRequest, peers); })},
      {"tman_reply", datagram([&](Writer& w) { return write_tman(w, kTmanReply, peers); })},
      {"tman_most_entries",
       datagram([&](Writer& w) { return write_tman(w, kTmanReply, most_peers); })},
      {"tman_empty", datagram([&](Writer& w) { return write_tman(w, kTmanRequest, {}); })},
      {"gossip", datagram([&](Writer& w) {
         return write_view_gossip(w, {42, 3, p5});
       })},
      {"gossip_max_payload", datagram([&](Writer& w) {
         return write_view_gossip(w, {~std::uint64_t(0), kViewHopsMax, p_max});
       })},
      {"gossip_empty_payload", datagram([&](Writer& w) {
         return write_view_gossip(w, {7, 0, {}});
       })},
      {"mixed", datagram([&](Writer& w) {
         return write_subscribe(w, {false, 1, a1}) && write_inview(w, {true}) &&
                write_walk(w, {2, a2}) && write_shuffle(w, kShuffleReply, two) &&
                write_tman(w, kTmanReply, peers) && write_view_gossip(w, {9, 1, p5});
       })},
      {"unknown_view_frame_then_gossip", datagram([&](Writer& w) {
         w.u8(0x37);  // unassigned in the family: skipped
         w.varint(2);
         w.u8(1);
         w.u8(2);
         return write_view_gossip(w, {10, 2, p5});
       })},
  };
}

}  // namespace

// Consistent-membership (Rapid) seeds: one datagram per frame type (frame_40 .. frame_4e), a
// vote for a cut sent by digest only, and the two stream messages. Members are the fuzzer's
// preloaded group (10.0.0.1-4:7946).
std::vector<std::pair<std::string, std::vector<std::byte>>> consistent_seeds() {
  const Address peer = Address::ipv4(10, 0, 0, 2, 7946), joiner = Address::ipv4(10, 0, 0, 9, 7946);
  std::vector<std::pair<std::string, std::vector<std::byte>>> seeds;
  RapidMessage m;
  m.config = ConfigRef{0, 0};
  m.seq = 1;
  m.address = joiner;
  m.rank = Rank{2, 77};
  m.vrank = Rank{1, 0};
  m.digest = 0x5eed;
  m.count = m.total = 1;
  m.addrs[0] = joiner;
  m.alert_count = 1;
  m.alerts[0] = Alert{joiner, AlertKind::join, 0x3ff};
  m.bitmap_bytes = 1;
  m.bitmap[0] = std::byte{0x0f};
  char name[16];
  for (std::uint8_t t = 0x40; t <= kRapidFrameLast; ++t) {
    m.type = RapidFrame(t);
    std::snprintf(name, sizeof name, "frame_%02x", t);
    seeds.emplace_back(name, datagram([&](Writer& w) { return write_rapid(w, m); }));
  }
  m.type = RapidFrame::vote;
  m.count = 0;
  m.total = 400;
  seeds.emplace_back("vote_by_digest", datagram([&](Writer& w) { return write_rapid(w, m); }));
  const Address members[] = {Address::ipv4(10, 0, 0, 1, 7946), peer, joiner};
  seeds.emplace_back("config_state", encode_config_state(ConfigRef{1, 0x55}, members));
  seeds.emplace_back("cut_state", encode_cut_state(ConfigRef{0, 0}, 0x5eed, members));
  return seeds;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-root>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const auto p64 = payload(64);
  const auto p_max = payload(kMulticastPayloadBytesMax);
  const MessageId m0{member_id(0), 1}, m0b{member_id(0), 2}, m3{member_id(3), 1},
      m5{member_id(5), 7};

  std::vector<std::pair<std::string, std::vector<std::byte>>> seeds = {
      {"data_push", datagram([&](Writer& w) {
         return write_data(w, {m0, 0, kDataPush, p64});
       })},
      {"data_push_other_origin", datagram([&](Writer& w) {
         return write_data(w, {m3, 2, kDataPush, p64});
       })},
      {"data_pull_reply_two", datagram([&](Writer& w) {
         return write_data(w, {m0, 1, kDataPullReply, p64}) &&
                write_data(w, {m0b, 1, kDataPullReply, p64});
       })},
      {"data_repair", datagram([&](Writer& w) {
         return write_data(w, {m0b, 3, kDataRepair, p64});
       })},
      {"data_retransmit", datagram([&](Writer& w) {
         return write_data(w, {m5, 1, kDataRetransmit, p64});
       })},
      {"data_max_payload", datagram([&](Writer& w) {
         return write_data(w, {m3, 0, kDataPush, p_max});
       })},
      {"data_empty_payload", datagram([&](Writer& w) {
         return write_data(w, {m0, 0, kDataPush, {}});
       })},
      {"pull_request", datagram([&](Writer& w) {
         const MessageId ids[] = {m0, m3};
         return write_pull_request(w, ids);
       })},
      {"pull_request_empty", datagram([&](Writer& w) { return write_pull_request(w, {}); })},
      {"feedback_new", datagram([&](Writer& w) {
         return write_feedback(w, {m0, true});
       })},
      {"feedback_old", datagram([&](Writer& w) {
         return write_feedback(w, {m0, false});
       })},
      {"ack", datagram([&](Writer& w) { return write_ack(w, {m0}); })},
      {"nack", datagram([&](Writer& w) {
         return write_nack(w, {m0b, 1});
       })},
      {"session", datagram([&](Writer& w) {
         return write_session(w, {member_id(0), 4});
       })},
      {"mixed", datagram([&](Writer& w) {
         const MessageId ids[] = {m5};
         return write_data(w, {m3, 1, kDataPush, p64}) && write_feedback(w, {m3, false}) &&
                write_ack(w, {m3}) && write_session(w, {member_id(3), 3}) &&
                write_nack(w, {MessageId{member_id(3), 2}, 2}) && write_pull_request(w, ids);
       })},
      {"unknown_frame_then_data", datagram([&](Writer& w) {
         w.u8(0x7e);  // a frame type from the future: skipped, counted
         w.varint(3);
         w.u8(1);
         w.u8(2);
         w.u8(3);
         return write_data(w, {m0, 0, kDataPush, p64});
       })},
  };
  for (const char* target : {"fuzz_native_frames", "fuzz_multicast_on_datagram"}) {
    for (const auto& [name, bytes] : seeds) save(root / target, name, bytes);
  }
  const auto membership = membership_seeds();
  for (const auto& [name, bytes] : membership) save(root / "fuzz_membership_frames", name, bytes);
  const auto views = view_seeds();
  for (const auto& [name, bytes] : views) save(root / "fuzz_view_frames", name, bytes);
  const auto consistent = consistent_seeds();
  for (const auto& [name, bytes] : consistent) {
    save(root / "fuzz_consistent_frames", name, bytes);
  }
  std::printf(
      "wrote %zu multicast seeds to each of 2 corpora, %zu membership and %zu view seeds under "
      "%s\n",
      seeds.size(), membership.size(), views.size(), root.c_str());
  return 0;
}
