// Peer: dlib's own face finding on a list of images: the HOG frontal face
// detector (image upsampled once, as dlib's examples do), then the 68-point
// shape predictor in the best box. One line per image:
//   path found x y w h x0 y0 ... x67 y67      (found 0: no face, no numbers)
// build: g++ -O2 -o dlib_faces dlib_faces.cpp -ldlib -lpthread -ljpeg -lpng \
//          /lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
// usage: dlib_faces MODEL.dat IMAGE...
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing.h>
#include <dlib/image_io.h>
#include <dlib/image_transforms.h>
#include <cstdio>
using namespace dlib;
int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: %s MODEL IMAGE...\n", argv[0]); return 2; }
  shape_predictor sp; deserialize(argv[1]) >> sp;
  frontal_face_detector det = get_frontal_face_detector();
  for (int i = 2; i < argc; i++) {
    array2d<unsigned char> img; load_image(img, argv[i]);
    std::vector<std::pair<double, rectangle>> dets;
    array2d<unsigned char> up; pyramid_up(img, up, pyramid_down<2>());
    det(up, dets, 0.0);
    if (dets.empty()) { std::printf("%s 0\n", argv[i]); continue; }
    size_t best = 0;
    for (size_t k = 1; k < dets.size(); k++) if (dets[k].first > dets[best].first) best = k;
    rectangle r = dets[best].second;
    r = rectangle(r.left() / 2, r.top() / 2, r.right() / 2, r.bottom() / 2);
    full_object_detection s = sp(img, r);
    std::printf("%s 1 %ld %ld %ld %ld", argv[i], r.left(), r.top(), r.width(), r.height());
    for (unsigned k = 0; k < s.num_parts(); k++) std::printf(" %ld %ld", s.part(k).x(), s.part(k).y());
    std::printf("\n");
  }
}
