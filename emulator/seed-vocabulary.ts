// Word lists for generated data. Comments are reused string constants, so a large seed holding
// 150 000 reviews shares their text instead of allocating it per review.

export const FIRST_NAMES = [
  "Alex",
  "Maria",
  "Jonas",
  "Priya",
  "Liam",
  "Sofia",
  "Noah",
  "Emma",
  "Yusuf",
  "Chen",
  "Lea",
  "Mateo",
  "Aisha",
  "Lukas",
  "Hana",
  "Oliver",
  "Zoe",
  "Kwame",
  "Ines",
  "Tomasz",
  "Freya",
  "Ravi",
  "Camille",
  "Diego",
  "Anya",
  "Ben",
  "Olga",
  "Sami",
  "Nora",
  "Elif",
] as const;

export const LAST_NAMES = [
  "Morgan",
  "Schmidt",
  "Rossi",
  "Kowalski",
  "Nguyen",
  "Okafor",
  "Silva",
  "Dubois",
  "Tanaka",
  "Andersen",
  "Haddad",
  "Novak",
  "Garcia",
  "Kim",
  "Müller",
  "O'Brien",
  "Patel",
  "Costa",
  "Larsen",
  "Ivanova",
  "Moreau",
  "Yilmaz",
  "Fischer",
  "Brown",
] as const;

/** The one Google user the emulator signs in; the PERSONAL account carries this name. */
export const EMULATED_USER = { displayName: "Alex Morgan", email: "alex.morgan@example.com" } as const;

export const GROUP_NAMES = [
  "Harbor Hospitality Group",
  "Northwind Retail",
  "Blue Fern Clinics",
  "Copper Kettle Cafés",
  "Summit Fitness",
  "Lumen Opticians",
  "Green Leaf Grocers",
  "Atlas Auto Care",
] as const;

export const BRANDS = [
  { brand: "Copper Kettle", category: "coffee_shop", categoryName: "Coffee shop" },
  { brand: "Harbor Bistro", category: "restaurant", categoryName: "Restaurant" },
  { brand: "Summit Fitness", category: "gym", categoryName: "Gym" },
  { brand: "Lumen Optics", category: "optician", categoryName: "Optician" },
  { brand: "Green Leaf Market", category: "grocery_store", categoryName: "Grocery store" },
  { brand: "Atlas Auto Care", category: "auto_repair_shop", categoryName: "Auto repair shop" },
  { brand: "Blue Fern Dental", category: "dentist", categoryName: "Dentist" },
  { brand: "Paper Lantern Books", category: "book_store", categoryName: "Book store" },
] as const;

export const CITIES = [
  { city: "Berlin", region: "DE", area: "Berlin", postal: "10115", lat: 52.52, lng: 13.405, phone: "+49 30" },
  { city: "Munich", region: "DE", area: "Bavaria", postal: "80331", lat: 48.137, lng: 11.575, phone: "+49 89" },
  { city: "Hamburg", region: "DE", area: "Hamburg", postal: "20095", lat: 53.551, lng: 9.993, phone: "+49 40" },
  { city: "Vienna", region: "AT", area: "Vienna", postal: "1010", lat: 48.208, lng: 16.373, phone: "+43 1" },
  { city: "Zurich", region: "CH", area: "Zurich", postal: "8001", lat: 47.376, lng: 8.541, phone: "+41 44" },
  { city: "Amsterdam", region: "NL", area: "North Holland", postal: "1012", lat: 52.37, lng: 4.895, phone: "+31 20" },
  { city: "London", region: "GB", area: "England", postal: "EC1A 1BB", lat: 51.507, lng: -0.128, phone: "+44 20" },
  { city: "Austin", region: "US", area: "TX", postal: "78701", lat: 30.267, lng: -97.743, phone: "+1 512" },
] as const;

export const STREETS = [
  "Hauptstraße",
  "Market Street",
  "Lindenallee",
  "Harbour Road",
  "Kings Lane",
  "Bahnhofstraße",
  "Oak Avenue",
  "Riverside Walk",
  "Mühlenweg",
  "Station Square",
] as const;

export const DISTRICTS = ["Downtown", "Old Town", "Riverside", "Central", "North", "Westend", "Harbour", "Station"] as const;

/** Review sentences by mood; a review takes one or two. */
export const COMMENTS = {
  positive: [
    "Friendly staff and quick service.",
    "Absolutely loved it, will come back!",
    "Great value for money.",
    "The team went out of their way to help me.",
    "Clean, bright and well organised.",
    "Best in the neighbourhood, hands down.",
    "Booked online, everything was ready when I arrived.",
    "Five stars for the patience with my many questions.",
  ],
  neutral: [
    "Decent, but a bit crowded at lunchtime.",
    "Okay overall. Parking is hard to find.",
    "Good quality, prices are on the high side.",
    "Service was fine, nothing special.",
    "Had to wait twenty minutes despite the appointment.",
  ],
  negative: [
    "Rude staff and a long wait.",
    "My order was wrong twice. Disappointing.",
    "Called three times, nobody picked up.",
    "Overpriced and not very clean.",
    "Would not recommend, the manager was dismissive.",
  ],
} as const;

/** Google inlines machine translations into `comment`; a few seeded reviews show that. */
export const TRANSLATED_COMMENTS = [
  "(Translated by Google) Very friendly staff, we will be back!\n\n(Original)\nSehr freundliches Personal, wir kommen wieder!",
  "(Translated by Google) Good coffee but slow service.\n\n(Original)\nBuen café pero el servicio es lento.",
  "(Translated by Google) Excellent advice, thank you!\n\n(Original)\nExcellents conseils, merci !",
] as const;

export const REPLIES = [
  "Thank you for your kind words! We look forward to seeing you again.",
  "Thanks for the feedback, we have shared it with the team.",
  "We are sorry to hear about your experience. Please contact us so we can make it right.",
  "Thank you for taking the time to leave a review!",
  "We appreciate your honest feedback and are working on shorter waiting times.",
] as const;
