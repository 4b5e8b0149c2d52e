/*
 * The built-in world of the commonsense family: everyday objects with a
 * material, a typical weight and length, the room where they are usually
 * kept and what they are used for, and the materials' behaviour in water and
 * when dropped. The figures are typical values chosen so that every pair the
 * generator compares differs at least twofold; they are facts of this world,
 * stated in every chain of thought that relies on them.
 */
#ifndef LRC_CORPUS_WORLD_H
#define LRC_CORPUS_WORLD_H

typedef enum world_material {
    MAT_METAL,
    MAT_WOOD,
    MAT_GLASS,
    MAT_CERAMIC,
    MAT_STONE,
    MAT_PLASTIC,
    MAT_RUBBER,
    MAT_CLOTH,
    MAT_PAPER,
    MAT_CORK,
    MAT_WAX,
    MAT_FOAM,
    MAT_COUNT
} world_material;

typedef struct world_material_info {
    const char *name;
    int floats; /* 1 floats, -1 sinks, 0 not asked (it depends on the object) */
    int breaks; /* 1 breaks when dropped on a hard floor, -1 does not, 0 not asked */
} world_material_info;

typedef struct world_object {
    const char *name; /* singular, lower case */
    world_material material;
    int grams;       /* typical weight */
    int cm;          /* typical length */
    int place;       /* index into world_places */
    const char *use; /* "to <use>": what it is used for, unique in the table */
} world_object;

extern const world_material_info world_materials[MAT_COUNT];
extern const char *const world_places[];        /* "kitchen": the answer */
extern const char *const world_place_phrases[]; /* "in the kitchen" */
extern const int world_n_places;
extern const world_object world_objects[];
extern const int world_n_objects;

/* "a" or "an" for a lower-case word. */
const char *world_article(const char *word);

#endif
