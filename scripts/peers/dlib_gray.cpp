// Peer: the grey image dlib's load_image gives (libjpeg with its defaults for a JPEG,
// then (R+G+B)/3), written as a binary PGM, to compare decoders with tell's.
// build: g++ -O2 -o dlib_gray dlib_gray.cpp -ldlib -lpthread -ljpeg -lpng \
//          /lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
// usage: dlib_gray IMAGE OUT.pgm
#include <dlib/image_io.h>
#include <cstdio>
using namespace dlib;
int main(int argc, char** argv) {
  if (argc != 3) { std::fprintf(stderr, "usage: %s IMAGE OUT.pgm\n", argv[0]); return 2; }
  array2d<unsigned char> img; load_image(img, argv[1]);
  FILE* f = std::fopen(argv[2], "wb");
  std::fprintf(f, "P5\n%ld %ld\n255\n", img.nc(), img.nr());
  for (long r = 0; r < img.nr(); r++) std::fwrite(&img[r][0], 1, img.nc(), f);
  std::fclose(f);
}
