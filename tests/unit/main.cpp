#define BOOST_TEST_MODULE synkronus
#include <boost/test/unit_test.hpp>
