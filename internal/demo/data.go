package demo

// Sample values. They lean on what breaks careless dump and restore code:
// accents, ñ, €, emoji, quotes, backslashes, tabs, newlines, NUL and Ctrl-Z,
// empty strings next to NULLs (nullValue).

type category struct {
	name, description  string
	minCents, maxCents int64
	products           []string
}

var categories = []category{
	{"Bocadillos", "Bocadillos fríos y calientes, pan del día", 180, 450,
		[]string{"Bocadillo de jamón serrano", "Bocadillo de tortilla española", "Bocadillo de queso manchego", "Bocadillo vegetal", "Pepito de ternera", "Sándwich mixto", "Bocadillo de atún con pimientos"}},
	{"Bebidas", "Agua, zumos y refrescos", 60, 250,
		[]string{"Agua mineral 50 cl", "Zumo de naranja natural", "Refresco de limón", "Batido de chocolate", "Agua con gas", "Horchata"}},
	{"Cafés e infusiones", "Café, té, Cola Cao y manzanilla", 90, 220,
		[]string{"Café con leche", "Cortado", "Café solo", "Té verde", "Cola Cao", "Infusión de manzanilla", "Café con leche de avena"}},
	{"Bollería", "Croissants, napolitanas y magdalenas", 80, 260,
		[]string{"Croissant", "Napolitana de chocolate", "Magdalena", "Donut glaseado", "Ensaimada", "Caña de crema"}},
	{"Fruta", "Fruta de temporada", 40, 150,
		[]string{"Manzana", "Plátano de Canarias", "Mandarina", "Pera conferencia", "Macedonia", "Kiwi"}},
	{"Menú del día", "Primer plato, segundo, pan, bebida y postre", 450, 750,
		[]string{"Menú del día", "Menú infantil", "Menú vegetariano", "Menú sin gluten", "Menú halal"}},
	{"Snacks", "", 70, 220,
		[]string{"Patatas fritas", "Frutos secos 🥜", "Barrita de cereales", "Palomitas", "Tortitas de maíz"}},
	{"Postres", nullValue, 90, 280,
		[]string{"Yogur natural", "Flan de huevo", "Arroz con leche", "Natillas", "Crème brûlée", "Gelatina de fresa 🍓"}},
	{"Ensaladas", "Ensaladas 🥗 preparadas cada mañana", 320, 560,
		[]string{"Ensalada césar", "Ensalada de pasta", "Ensalada mixta", "Ensalada de quinoa"}},
	{"Sin gluten", "Aptos para celíacos — elaborados sin trazas", 120, 480,
		[]string{"Bocadillo sin gluten", "Magdalena sin gluten", "Galletas sin gluten", "Pizza sin gluten"}},
}

var productVariants = []string{
	" (grande)", " (pequeño)", " XL", " — oferta", " de la casa", " ecológico", " 🎃 Halloween", " edición Navidad 🎄",
	" 2×1", " con extra de queso", " al 50 %", " «especial»", " nº 2",
}

var productDescriptions = []string{
	nullValue, nullValue, "",
	"Precio especial alumnos: consultar en caja.",
	"Contiene gluten y lácteos.",
	"Elaborado en la cocina del colegio cada mañana.",
	"Ingredientes: harina de trigo, agua, sal, levadura.\nPuede contener trazas de frutos secos.",
	"Servir frío. Mejor antes de: ver envase.",
	"Producto de comercio justo ☕ — 0,10 € van a la ONG del colegio.",
	"Receta de la abuela 👵: ¡sin azúcar añadido!",
	"Tamaño: 33 cl\tLote: 2024/09",
	`Marca "La Cántina" — 'la de siempre'`,
}

var firstNames = []string{
	"María", "José", "María José", "Lucía", "Hugo", "Martín", "Sofía", "Íñigo", "Begoña", "Zoë",
	"Nuño", "Ainhoa", "Álvaro", "Chloé", "Jesús", "Carmen", "Pau", "Núria", "Iker", "Valentina",
	"Mateo", "Daniela", "Ángel", "Leire", "Joan", "Aitana", "Óscar", "Noa", "Raúl", "Inés",
}

var lastNames = []string{
	"García", "Núñez", "Pérez", "Ibáñez", "Muñoz", "Sánchez", "Fernández", "López", "Martínez", "Gómez",
	"Díaz", "Ruiz", "Hernández", "Jiménez", "O'Connor", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez",
	"Castaño", "Peña", "Etxeberria", "Güell", "Vázquez", "D'Angelo", "Rodríguez", "Blanco", "Moreno", "Serrano",
}

var grades = []string{
	"1º Primaria", "2º Primaria", "3º Primaria", "4º Primaria", "5º Primaria", "6º Primaria",
	"1º ESO", "2º ESO", "3º ESO", "4º ESO", "1º Bachillerato", "2º Bachillerato",
}

var allergens = []string{
	"Gluten 🌾", "Frutos secos 🥜", "Lactosa 🥛", "Huevo 🥚", "Marisco 🦐", "Fresas 🍓", "Sésamo",
	"Pescado 🐟", "Apio", "Mostaza", "Soja", "Kiwi (leve)",
}

var saleNotes = []string{
	"Pagó con billete de 20 €",
	"Sin cebolla, por favor 🙏",
	"línea 1\nlínea 2",
	"Tabulado\tcon\ttabs",
	`Comillas "dobles" y 'simples'`,
	`Barra invertida \ al final\`,
	"Robert'); DROP TABLE students;--",
	"byte NUL:\x00:fin",
	"Ctrl-Z:\x1a:fin",
	"retorno\r\nde carro",
	"Ñandú, año, pingüino",
	"100 % 💯 _comodines_ %",
	"😀😃😄😁🤣 — emoji de 4 bytes",
}
