# cmake -DIN=file -DOUT=file.c -DSYM=name -P embed.cmake: turns a binary into a C array.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed.cmake. */\n#include <stddef.h>\n"
  "const unsigned char ${SYM}[] = {\n${body}\n};\nconst size_t ${SYM}_len = ${len};\n")
