#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "domain/attachment_refs.h"

BOOST_AUTO_TEST_SUITE(attachment_refs)

BOOST_AUTO_TEST_CASE(file_names_and_uuids_have_the_form) {
    for (const char* yes : {"3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60.jpg", "3F2B8C1E-9A4D-4E7B-8C2A-1B2C3D4E5F60",
                            "photo-1.m4a", "a.b.PNG", "x.mp4", "sig_2.svg"})
        BOOST_TEST(domain::looks_like_attachment_id(yes), yes);
    for (const char* no : {"yes", "3.5", "v1.2", "", ".jpg", "photo.", "a b.jpg", "photo.j-pg",
                           "photo.abcdefghijklmnopq", "3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6", "x/y.jpg", "ünï.jpg"})
        BOOST_TEST(!domain::looks_like_attachment_id(no), no);
    BOOST_TEST(!domain::looks_like_attachment_id(std::string(252, 'a') + ".jpg"));  // 256 characters
    BOOST_TEST(domain::looks_like_attachment_id(std::string(251, 'a') + ".jpg"));
}

BOOST_AUTO_TEST_CASE(values_at_any_depth_sorted_and_distinct) {
    const auto refs = domain::attachment_refs(
        R"({"photo":"b.jpg","n":3,"x.jpg":"not a file","list":["a.png",{"deep":["b.jpg","c.m4a"]},"yes",true,null],)"
        R"("note":"see b.jpg"})");
    BOOST_TEST(refs == (std::vector<std::string>{"a.png", "b.jpg", "c.m4a"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nothing_from_malformed_or_empty_data) {
    BOOST_TEST(domain::attachment_refs("{").empty());
    BOOST_TEST(domain::attachment_refs("{}").empty());
    BOOST_TEST(domain::attachment_refs(R"("a.jpg")") == std::vector<std::string>{"a.jpg"});
}

BOOST_AUTO_TEST_CASE(bounded_per_record) {
    std::string data = "[";
    for (int i = 0; i < 500; ++i) data += (i ? ",\"" : "\"") + std::to_string(1000 + i) + ".jpg\"";
    data += "]";
    const auto refs = domain::attachment_refs(data);
    BOOST_TEST(refs.size() == domain::kMaxRefsPerRecord);
    BOOST_TEST(refs.front() == "1000.jpg");
}

BOOST_AUTO_TEST_SUITE_END()
