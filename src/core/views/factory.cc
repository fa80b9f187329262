// The view protocol factory.
#include "core/views/cyclon.h"
#include "core/views/hyparview.h"
#include "core/views/scamp.h"
#include "core/views/tman.h"
#include "grapevine/view.h"

namespace grapevine {

std::unique_ptr<ViewMachine> make_view(const ViewConfig& config, const Address& self,
                                       std::uint64_t seed) {
  if (!validate(config)) return nullptr;
  switch (config.kind) {
    case ViewKind::scamp:
      return std::make_unique<detail::ScampView>(config, self, seed);
    case ViewKind::cyclon:
      return std::make_unique<detail::CyclonView>(config, config.cyclon_view_size,
                                                  config.cyclon_shuffle_length, self, seed);
    case ViewKind::tman:
      return std::make_unique<detail::TmanView>(config, self, seed);
    case ViewKind::hyparview:
      return make_hyparview(config, self, seed);
  }
  return nullptr;
}

}  // namespace grapevine
