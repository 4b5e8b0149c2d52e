/*
 * Tables of the commonsense world; see world.h.
 */
#include "corpus/world.h"

const world_material_info world_materials[MAT_COUNT] = {
    [MAT_METAL] = {"metal", -1, -1},  [MAT_WOOD] = {"wood", 1, -1},
    [MAT_GLASS] = {"glass", -1, 1},   [MAT_CERAMIC] = {"ceramic", -1, 1},
    [MAT_STONE] = {"stone", -1, -1},  [MAT_PLASTIC] = {"plastic", 0, 0},
    [MAT_RUBBER] = {"rubber", 0, -1}, [MAT_CLOTH] = {"cloth", 0, -1},
    [MAT_PAPER] = {"paper", 0, -1},   [MAT_CORK] = {"cork", 1, -1},
    [MAT_WAX] = {"wax", 1, 0},        [MAT_FOAM] = {"foam", 1, -1},
};

const char *const world_places[] = {"kitchen", "office",    "garden", "bathroom",
                                    "bedroom", "classroom", "garage", "beach"};
const char *const world_place_phrases[] = {"in the kitchen",  "in the office",  "in the garden",
                                           "in the bathroom", "in the bedroom", "in the classroom",
                                           "in the garage",   "at the beach"};
const int world_n_places = (int)(sizeof world_places / sizeof world_places[0]);

enum { KITCHEN, OFFICE, GARDEN, BATHROOM, BEDROOM, CLASSROOM, GARAGE, BEACH };

const world_object world_objects[] = {
    {"spoon", MAT_METAL, 40, 15, KITCHEN, "eat soup"},
    {"knife", MAT_METAL, 70, 22, KITCHEN, "cut bread"},
    {"frying pan", MAT_METAL, 1200, 45, KITCHEN, "fry eggs"},
    {"kettle", MAT_METAL, 1000, 25, KITCHEN, "boil water"},
    {"plate", MAT_CERAMIC, 400, 26, KITCHEN, "serve dinner"},
    {"mug", MAT_CERAMIC, 300, 10, KITCHEN, "drink tea"},
    {"glass jar", MAT_GLASS, 300, 14, KITCHEN, "keep jam"},
    {"cutting board", MAT_WOOD, 900, 38, KITCHEN, "chop vegetables on"},
    {"wooden spoon", MAT_WOOD, 30, 30, KITCHEN, "stir a pot of soup"},
    {"wine cork", MAT_CORK, 4, 4, KITCHEN, "close a bottle"},
    {"pencil", MAT_WOOD, 5, 18, OFFICE, "draw a sketch"},
    {"stapler", MAT_METAL, 300, 16, OFFICE, "staple papers"},
    {"paper clip", MAT_METAL, 1, 3, OFFICE, "hold pages together"},
    {"envelope", MAT_PAPER, 6, 23, OFFICE, "mail a letter"},
    {"notebook", MAT_PAPER, 200, 24, OFFICE, "write notes"},
    {"pen", MAT_PLASTIC, 10, 14, OFFICE, "sign a form"},
    {"pair of scissors", MAT_METAL, 90, 20, OFFICE, "cut paper"},
    {"eraser", MAT_RUBBER, 20, 5, OFFICE, "rub out pencil marks"},
    {"shovel", MAT_METAL, 2000, 120, GARDEN, "dig a hole"},
    {"flower pot", MAT_CERAMIC, 800, 20, GARDEN, "grow a plant"},
    {"garden hose", MAT_RUBBER, 3000, 1500, GARDEN, "water the lawn"},
    {"brick", MAT_STONE, 2500, 22, GARDEN, "build a wall"},
    {"wheelbarrow", MAT_METAL, 15000, 150, GARDEN, "carry soil"},
    {"bench", MAT_WOOD, 20000, 180, GARDEN, "sit outside"},
    {"towel", MAT_CLOTH, 500, 100, BATHROOM, "dry your hands"},
    {"toothbrush", MAT_PLASTIC, 20, 18, BATHROOM, "brush your teeth"},
    {"mirror", MAT_GLASS, 3000, 60, BATHROOM, "look at your face"},
    {"bath sponge", MAT_FOAM, 20, 12, BATHROOM, "wash your back"},
    {"pillow", MAT_CLOTH, 600, 50, BEDROOM, "rest your head"},
    {"blanket", MAT_CLOTH, 1500, 200, BEDROOM, "keep warm in bed"},
    {"candle", MAT_WAX, 150, 20, BEDROOM, "give light in a power cut"},
    {"alarm clock", MAT_PLASTIC, 300, 12, BEDROOM, "wake up on time"},
    {"book", MAT_PAPER, 500, 24, CLASSROOM, "read a story"},
    {"desk", MAT_WOOD, 15000, 120, CLASSROOM, "work at"},
    {"chair", MAT_WOOD, 5000, 90, CLASSROOM, "sit at a desk"},
    {"globe", MAT_PLASTIC, 900, 40, CLASSROOM, "find a country"},
    {"backpack", MAT_CLOTH, 700, 45, CLASSROOM, "carry school books"},
    {"ruler", MAT_WOOD, 30, 30, CLASSROOM, "measure a line"},
    {"hammer", MAT_METAL, 600, 30, GARAGE, "hit a nail"},
    {"nail", MAT_METAL, 5, 6, GARAGE, "join two boards"},
    {"wrench", MAT_METAL, 400, 25, GARAGE, "turn a bolt"},
    {"ladder", MAT_METAL, 7000, 200, GARAGE, "reach a high shelf"},
    {"bucket", MAT_PLASTIC, 400, 30, GARAGE, "carry water"},
    {"car tire", MAT_RUBBER, 9000, 65, GARAGE, "replace a flat one"},
    {"beach ball", MAT_PLASTIC, 100, 50, BEACH, "play catch"},
    {"surfboard", MAT_FOAM, 4000, 200, BEACH, "ride the waves"},
    {"pair of sunglasses", MAT_PLASTIC, 30, 14, BEACH, "shade your eyes"},
    {"pebble", MAT_STONE, 50, 4, BEACH, "skip across the water"},
    {"sand castle bucket", MAT_PLASTIC, 150, 15, BEACH, "build a sand castle"},
    {"beach towel", MAT_CLOTH, 700, 160, BEACH, "lie on the sand"},
};
const int world_n_objects = (int)(sizeof world_objects / sizeof world_objects[0]);

const char *world_article(const char *word) {
    switch (word[0]) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
        return "an";
    default:
        return "a";
    }
}
