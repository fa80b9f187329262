// Consensus on a view change: Fast Paxos (Lamport 2006) as Rapid uses it (ATC 2018, §4.3), with
// a classic Paxos fallback that retries with rising rounds.
//
// Fast round (rank (1, 0)): each member votes for its own cut detector's proposal. Votes are
// gossiped, not sent to everyone (the reference code's unicast-to-all costs O(N^2) per change):
// each proposal travels with a bitmap of its voters (bit i = member i in id order); receivers
// OR the bitmaps, and the merged state is pushed to a few random members per gossip round (the
// paper's "gossiped bitmap per proposal"). A member decides a cut once N - floor((N-1)/4) members
// voted for it (the reference's quorum; > 3N/4), whether or not it proposed itself.
//
// Classic fallback (coordinated rounds r >= 2, rank (r, coordinator id)): a member that has
// not decided `classic_timeout` + a random jitter after it first took part (voted, or saw a vote)
// becomes coordinator of the next round: phase1a to every member; acceptors whose promise is
// lower answer phase1b(rank, vrank, vval); with a majority Q of answers, the coordinator picks
// the value at the highest classic vrank, else the fast-round value with >= |Q| - F votes in Q
// (the only one that can have been decided in the fast round; unique since |Q| > N/2), else the
// most-voted one, else its own proposal; it sends phase2a; acceptors that have not promised a
// higher rank accept and answer phase2b to the coordinator, which decides on a majority and sends
// the decision to everyone (lost decisions are repaired by anti-entropy). Unlike the reference
// (one classic round, no retry: its issue #36), a member retries with a higher round after each
// timeout, so the group decides once a majority is connected long enough.
// An acceptor that promised a classic rank no longer votes in the fast round.
//
// What we specify that the reference leaves open: a proposal (vote value) is a *cut*, the list
// of member addresses the view change toggles, sorted by node id (node_id_of(address)) with no
// duplicates; a member's address is its identity, so a joiner in a cut needs no separate UP
// alert to be admitted (the reference's proposals list endpoints only and NPE without the
// alert). Paxos runs on cut *digests* (cut_digest(config, cut)), which acceptors accept without
// knowing the list; a frame carries the list inline when it has at most wire::kCutMembersMax
// members, else the digest and size only (ours: the reference sends unbounded cuts over gRPC).
// A member that decides a cut whose list it lacks asks a voter for it (cut_request; the
// answer, cut_state, comes on a stream) before installing: see cut_wanted().
// Ranks: the fast round is (1, 0); classic round r >= 2 is (r, coordinator's node id), r = 1 +
// the highest round this member has seen. A member may also vote the most-voted cut instead of
// its own (consistent_node.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/consistent/configuration.h"

namespace grapevine::detail {

/// How consensus reaches the other members. Messages are valid only during the call.
class ConsensusHost {
 public:
  virtual ~ConsensusHost() = default;
  virtual void send_to(const Address& to, const wire::RapidMessage& m) = 0;
  virtual void send_to_members(const wire::RapidMessage& m) = 0;  // every member but self
};

class Consensus {
 public:
  static constexpr wire::Rank kFastRank{1, 0};
  /// Most distinct proposals tracked per configuration; later ones are ignored.
  static constexpr std::size_t kProposalsMax = 16;

  /// A cut by digest; `size` members (the list may be unknown to this member).
  struct CutRef {
    std::uint64_t digest = 0;
    std::uint32_t size = 0;
    friend bool operator==(const CutRef&, const CutRef&) = default;
  };

  Consensus(ConsensusHost& host, const Address& self) : host_(host), self_(self) {}
  /// A new configuration: forgets every vote, promise and known cut.
  void reset(const Configuration& config);

  /// Votes for `cut` in the fast round, if this member has not voted or promised. True if so.
  bool vote(const Configuration& config, const std::vector<Address>& cut);
  /// Merges a gossiped vote frame (already checked to be for `config`).
  void on_vote(const Configuration& config, const wire::RapidMessage& m);
  /// The tracked proposal with the most votes (ties: lowest digest), or nullopt.
  [[nodiscard]] std::optional<CutRef> most_voted() const noexcept;
  /// Fills `out` with the next tracked proposal to gossip (round robin); false if none.
  bool next_gossip(const Configuration& config, wire::RapidMessage& out);

  /// Records the member list of a cut of this configuration (a cut_state, or a frame's inline
  /// cut); ignored unless canonical. Returns its digest.
  std::uint64_t learn(const Configuration& config, std::vector<Address> cut);
  /// The members of a cut by digest, if known here.
  [[nodiscard]] const std::vector<Address>* known(std::uint64_t digest) const noexcept;
  /// A member that voted for `digest` in the fast round, chosen with `pick` in [0, voters), or
  /// nullopt when no vote for it is tracked.
  [[nodiscard]] std::optional<std::uint32_t> voter_of(std::uint64_t digest,
                                                      std::uint64_t pick) const noexcept;

  /// Starts a classic round as coordinator with a round above every one seen.
  void start_classic(const Configuration& config);
  void on_phase1a(const Configuration& config, const Address& from, const wire::RapidMessage& m);
  void on_phase1b(const Configuration& config, const Address& from, const wire::RapidMessage& m);
  void on_phase2a(const Configuration& config, const Address& from, const wire::RapidMessage& m);
  void on_phase2b(const Configuration& config, const Address& from, const wire::RapidMessage& m);
  /// A decision frame for this configuration was received (from a coordinator or a catch-up).
  void on_decision(const Configuration& config, const wire::RapidMessage& m);

  /// The decided cut, once decided *and* its members are known here.
  [[nodiscard]] const std::vector<Address>* decided() const noexcept {
    return decided_ ? known(decided_->digest) : nullptr;
  }
  /// Decided, whether or not the members are known.
  [[nodiscard]] bool has_decided() const noexcept { return decided_.has_value(); }
  /// The digest of a decided cut whose members are not known here (fetch it), or nullopt.
  [[nodiscard]] std::optional<std::uint64_t> cut_wanted() const noexcept {
    if (decided_ && known(decided_->digest) == nullptr) return decided_->digest;
    return std::nullopt;
  }
  [[nodiscard]] bool decided_fast() const noexcept { return decided_fast_; }
  [[nodiscard]] bool voted() const noexcept { return voted_; }
  /// Has this member seen any vote or classic message in this configuration?
  [[nodiscard]] bool active() const noexcept { return voted_ || !proposals_.empty() || max_round_ > 1; }
  [[nodiscard]] std::uint64_t classic_rounds_started() const noexcept { return classic_started_; }

 private:
  static constexpr std::size_t kKnownMax = 2 * kProposalsMax;
  struct Proposal {
    std::uint32_t size = 0;
    std::vector<std::uint8_t> bits;
    std::uint32_t count = 0;
  };
  struct Reply {
    wire::Rank vrank;
    CutRef vval;
  };
  Proposal* track(const Configuration& config, CutRef cut);
  std::optional<CutRef> read_cut(const Configuration& config, const wire::RapidMessage& m);
  void set_bit(Proposal& p, std::uint32_t member);
  void check_fast(const Configuration& config, std::uint64_t digest, const Proposal& p);
  std::optional<CutRef> choose_value(const Configuration& config) const;
  void decide(CutRef cut, bool fast);
  void fill_cut(wire::RapidMessage& m, CutRef cut) const;

  ConsensusHost& host_;
  Address self_;
  wire::ConfigRef config_;
  std::map<std::uint64_t, Proposal> proposals_;  // by cut digest
  std::map<std::uint64_t, std::vector<Address>> known_;  // member lists by digest
  std::uint64_t gossip_cursor_ = 0;
  std::optional<CutRef> own_;  // this member's proposal, if any
  bool voted_ = false;
  // Acceptor state.
  wire::Rank promised_{0, 0}, vrank_{0, 0};
  std::optional<CutRef> vval_;
  // Coordinator state.
  std::uint32_t max_round_ = 1;
  wire::Rank leading_{0, 0};
  std::map<std::uint32_t, Reply> phase1b_;  // by member index
  CutRef leading_value_;
  bool phase2_sent_ = false;
  std::map<std::uint32_t, bool> phase2b_;
  std::uint64_t classic_started_ = 0;
  // Outcome.
  std::optional<CutRef> decided_;
  bool decided_fast_ = false;
  wire::RapidMessage scratch_;
};

}  // namespace grapevine::detail
