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
#include "wire/native_membership.h"

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

// Membership datagrams and one push-pull stream message (fuzz_membership_frames reads its
// input both as a datagram and as a stream message).
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
  stream.resize(w.size());
  seeds.emplace_back("push_pull_stream", stream);
  return seeds;
}

}  // namespace

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
  std::printf("wrote %zu multicast seeds to each of 2 corpora and %zu membership seeds under %s\n",
              seeds.size(), membership.size(), root.c_str());
  return 0;
}
