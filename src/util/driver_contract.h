// DriverContract: the driver side of the Machine contract (include/grapevine/machine.h), checked
// by both drivers, the runtime (one per hosted node) and the simulator (one for the whole loop,
// whose virtual time is global). A violation is a bug in a driver or a machine, never bad input,
// so it is asserted on, in release builds too:
//  - no machine call re-enters: a call opened while another is open (a callback or an Effects
//    method calling back into a machine) aborts;
//  - `now` never decreases from one call to the next;
//  - a stream is replied to only during the on_stream() call handling it.
//
//   DriverContract::Call call(contract, now);            // around every machine call
//   DriverContract::Call call(contract, now, stream_id); // around on_stream()
//   contract.check_reply(stream_id);                     // in Effects::reply_stream
#pragma once

#include "grapevine/event.h"
#include "grapevine/time.h"
#include "util/assert.h"

namespace grapevine::detail {

class DriverContract {
 public:
  /// Opens a machine call at `now` (with `stream`: an on_stream() call that may be answered).
  void enter(Time now, StreamId stream = 0) noexcept {
    GV_ASSERT(!in_call_);         // a machine call re-entered
    GV_ASSERT(now >= last_now_);  // time went backwards
    in_call_ = true;
    last_now_ = now;
    stream_ = stream;
  }
  void leave() noexcept {
    GV_ASSERT(in_call_);
    in_call_ = false;
    stream_ = 0;
  }
  /// A reply on `stream`: only inside the on_stream() call that handles it.
  void check_reply(StreamId stream) const noexcept {
    GV_ASSERT(in_call_ && stream != 0 && stream == stream_);
  }
  [[nodiscard]] bool in_call() const noexcept { return in_call_; }
  [[nodiscard]] Time last_now() const noexcept { return last_now_; }

  /// Scope of one machine call.
  class Call {
   public:
    Call(DriverContract& c, Time now, StreamId stream = 0) noexcept : c_(c) {
      c_.enter(now, stream);
    }
    ~Call() { c_.leave(); }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    DriverContract& c_;
  };

 private:
  Time last_now_ = Time::zero();
  StreamId stream_ = 0;
  bool in_call_ = false;
};

}  // namespace grapevine::detail
