// The view protocol factory.
#include "grapevine/view.h"

#include "core/views/hyparview.h"

namespace grapevine {

std::unique_ptr<ViewMachine> make_view(const ViewConfig& config, const Address& self,
                                       std::uint64_t seed) {
  (void)self;
  (void)seed;
  if (!validate(config)) return nullptr;
  switch (config.kind) {
    case ViewKind::scamp:
    case ViewKind::cyclon:
    case ViewKind::tman:
      return nullptr;  // TODO(views): SCAMP, Cyclon, T-MAN land in the next commits.
    case ViewKind::hyparview:
      return make_hyparview(config, self, seed);
  }
  return nullptr;
}

}  // namespace grapevine
