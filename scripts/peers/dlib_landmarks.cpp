// A copy of the project's peer benchmark bench/dlib_landmarks.cpp, so that make bench can build it.
// Peer: dlib's 68-point shape predictor on one face box.
// build: g++ -O3 -march=native -o dlib_landmarks dlib_landmarks.cpp -ldlib -lpthread -ljpeg -lpng \
//          /lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
// usage: dlib_landmarks MODEL.dat IMAGE [x y w h]   (no box: dlib's HOG detector picks the face)
// prints "box x y w h", 68 lines "i x y", then "dlib_landmark_us=<mean over 2000 runs>"
// (wall time) and "dlib_landmark_cpu_us=" (the process's CPU time: on a shared
// machine the wall time counts the time other jobs held the CPU)
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing.h>
#include <dlib/image_io.h>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
using namespace dlib;
int main(int argc, char** argv) {
  if (argc != 3 && argc != 7) { std::fprintf(stderr, "usage: %s MODEL IMAGE [x y w h]\n", argv[0]); return 2; }
  shape_predictor sp; deserialize(argv[1]) >> sp;
  array2d<unsigned char> img; load_image(img, argv[2]);
  rectangle box;
  if (argc == 7) {
    long x = std::atol(argv[3]), y = std::atol(argv[4]), w = std::atol(argv[5]), h = std::atol(argv[6]);
    box = rectangle(x, y, x + w - 1, y + h - 1);
  } else {
    std::vector<rectangle> d = get_frontal_face_detector()(img);
    if (d.empty()) { std::fprintf(stderr, "no face\n"); return 1; }
    box = d[0];
  }
  std::printf("box %ld %ld %ld %ld\n", box.left(), box.top(), box.width(), box.height());
  full_object_detection s = sp(img, box);
  for (unsigned i = 0; i < s.num_parts(); i++) std::printf("%u %ld %ld\n", i, s.part(i).x(), s.part(i).y());
  const int n = 2000;
  timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; i++) s = sp(img, box);
  auto t1 = std::chrono::steady_clock::now();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  std::printf("dlib_landmark_us=%.1f\n", std::chrono::duration<double, std::micro>(t1 - t0).count() / n);
  std::printf("dlib_landmark_cpu_us=%.1f\n", ((c1.tv_sec - c0.tv_sec) * 1e6 + (c1.tv_nsec - c0.tv_nsec) / 1e3) / n);
}
