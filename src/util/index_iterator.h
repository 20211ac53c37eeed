// An iterator over a list read by index (list[i]), for lists whose
// elements are not laid out in one array or are made when read.
#pragma once

#include <cstddef>

namespace ta {

template <typename List>
class IndexIterator {
 public:
  IndexIterator(List* list, std::size_t i) : list_(list), i_(i) {}
  decltype(auto) operator*() const { return (*list_)[i_]; }
  IndexIterator& operator++() {
    ++i_;
    return *this;
  }
  bool operator==(const IndexIterator& o) const { return i_ == o.i_; }
  bool operator!=(const IndexIterator& o) const { return i_ != o.i_; }

 private:
  List* list_;
  std::size_t i_;
};

}  // namespace ta
